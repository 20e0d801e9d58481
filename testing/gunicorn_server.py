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


@contextlib.contextmanager
def gunicorn_app(dsn: dict):
    """Yields the base URL of the app serving the database `dsn`; stops it afterwards."""
    port = free_port()
    env = {**os.environ, **libpq_env(dsn)}
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config=gunicorn.conf.py",
        # The command line wins over the config: loopback only, no access log.
        f"--bind=127.0.0.1:{port}",
        "--access-logfile=/dev/null",
        "desafio2:create_app()",
    ]
    process = subprocess.Popen(command, cwd=APP_DIR, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
