"""The API served as its image serves it, gunicorn with app/gunicorn.conf.py,
on a free port of 127.0.0.1, for tests that need real HTTP: chunked bodies,
requests gunicorn refuses itself, a fuzzer speaking to a socket.

The config records each start in `logs` (desafio2/startup.py) a moment after the
server is up: tests that count rows count usuarios, or logs about a usuario.
"""

import contextlib
import os
import subprocess
import sys
import time

import requests

from testing.postgres_server import APP_DIR, free_port, libpq_env

START_TIMEOUT_SECONDS = 20
STOP_TIMEOUT_SECONDS = 60


class GunicornApp:
    """The app under gunicorn with app/gunicorn.conf.py, on a free port of 127.0.0.1
    (`url`), serving inside the `with` and stopped after it. `extra` are more
    command-line options (they win over the config). With capture_stderr,
    `stderr` holds, once stopped, all that gunicorn and the start recorders it
    ran wrote there."""

    def __init__(self, env: dict, *extra: str, capture_stderr: bool = False):
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.stderr = ""
        command = [sys.executable, "-m", "gunicorn", "--config=gunicorn.conf.py"]
        # Loopback only, no access log.
        command += [f"--bind=127.0.0.1:{port}", "--access-logfile=/dev/null", *extra]
        command += ["desafio2:create_app()"]
        self._capture = capture_stderr
        self._process = subprocess.Popen(
            command,
            cwd=APP_DIR,
            env=env,
            stderr=subprocess.PIPE if capture_stderr else None,
            text=True,
        )

    def __enter__(self) -> "GunicornApp":
        try:
            wait_until_serving(self.url, self._process)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._process.terminate()
        try:
            # The recorders inherit gunicorn's stderr: a captured pipe ends only once
            # every process that could write a start record has exited.
            stderr = self._process.communicate(timeout=STOP_TIMEOUT_SECONDS)[1]
        except subprocess.TimeoutExpired:
            self._process.kill()
            stderr = self._process.communicate()[1]
        if self._capture:
            self.stderr = stderr


@contextlib.contextmanager
def gunicorn_app(dsn: dict):
    """Yields the base URL of the app serving the database `dsn`; stops it afterwards."""
    with GunicornApp({**os.environ, **libpq_env(dsn)}) as app:
        yield app.url


def wait_until_serving(url: str, process: subprocess.Popen, path: str = "/openapi.json") -> None:
    """Until GET `path` answers 200; bench/servers.py waits for its servers with it too.
    /openapi.json needs no database, so it answers as soon as a worker does."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode} before serving")
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(f"{url}{path}", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not serve {path} within {START_TIMEOUT_SECONDS}s")
