"""The API served by a real gunicorn on a free port of 127.0.0.1, for tests that
need real HTTP (chunked bodies, a fuzzer speaking to a socket).

It runs the image's command line without the image's gunicorn.conf.py: that
file records each start in `logs`, which would change the row counts the tests
compare. Workers and threads are the image's defaults.
"""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support.postgres_server import free_port

APP_DIR = Path(__file__).resolve().parents[2] / "app"
START_TIMEOUT_SECONDS = 20


@contextlib.contextmanager
def gunicorn_app(dsn: dict, workers: int = 2, threads: int = 4):
    """Yields the base URL of the app serving the database `dsn`; stops it afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "PGHOST": dsn["host"],
        "PGPORT": str(dsn["port"]),
        "PGUSER": dsn["user"],
        "PGPASSWORD": dsn["password"],
        "PGDATABASE": dsn["dbname"],
        "GUNICORN_THREADS": str(threads),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=gthread",
        f"--threads={threads}",
        "--log-level=warning",
        f"--pythonpath={APP_DIR}",
        "api:create_app()",
    ]
    # Started outside app/, where gunicorn would find and load gunicorn.conf.py by itself.
    process = subprocess.Popen(command, cwd=APP_DIR.parent / "tests", env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode} before serving")
        with contextlib.suppress(requests.ConnectionError):
            # /openapi.json needs no database, so it answers as soon as a worker does.
            if requests.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not serve {url} within {START_TIMEOUT_SECONDS}s")
