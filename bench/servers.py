"""The HTTP servers under test, each a process on a free port of 127.0.0.1.

`app_server` runs the API exactly as its image does (gunicorn with
app/gunicorn.conf.py, the worker counts the stack passes), only bound to the
loopback interface; `seed_server` runs bench/seed_app.py, the seed-style baseline.
"""

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from infra.settings import StackConfig
from testing.gunicorn_server import wait_until_serving
from testing.postgres_server import APP_DIR, REPO_ROOT, free_port, libpq_env

SEED_APP = Path(__file__).with_name("seed_app.py")
STOP_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # gunicorn's master, or the development server


def stack_defaults() -> dict[str, int]:
    """WEB_CONCURRENCY and GUNICORN_THREADS as `pulumi up` sets them by default."""
    defaults = {f.name: f.default for f in dataclasses.fields(StackConfig)}
    return {
        "WEB_CONCURRENCY": defaults["app_workers"],
        "GUNICORN_THREADS": defaults["app_threads"],
    }


def database_env(dsn: dict, password_file: Path) -> dict[str, str]:
    """libpq's environment, as the stack gives it (the password in a file, not the env)."""
    password_file.write_text(dsn["password"], encoding="utf-8")
    password_file.chmod(0o600)
    env = libpq_env(dsn)
    del env["PGPASSWORD"]
    return {**env, "DATABASE_PASSWORD_FILE": str(password_file)}


@contextlib.contextmanager
def app_server(dsn: dict, workdir: Path, extra_env: dict | None = None):
    port = free_port()
    env = {
        **os.environ,
        **database_env(dsn, workdir / "app-password"),
        **{key: str(value) for key, value in stack_defaults().items()},
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    # The image's command, with the bind narrowed to loopback (the command line
    # overrides the config file).
    command = [
        str(gunicorn),
        "--config",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "desafio2:create_app()",
    ]
    with _running(command, APP_DIR, env, workdir / f"app-{dsn['dbname']}.log", port) as server:
        yield server


@contextlib.contextmanager
def seed_server(dsn: dict, workdir: Path):
    port = free_port()
    env = {
        **os.environ,
        **database_env(dsn, workdir / "seed-password"),
        "PGPASSWORD": dsn["password"],
        "SEED_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, str(SEED_APP)]
    with _running(command, REPO_ROOT, env, workdir / f"seed-{dsn['dbname']}.log", port) as server:
        yield server


@contextlib.contextmanager
def _running(command: list[str], cwd: Path, env: dict, log_path: Path, port: int):
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            try:
                # /status: up, and its database answers.
                wait_until_serving(url, process, "/status")
            except RuntimeError as error:
                raise RuntimeError(f"{error}:\n{log_path.read_text()[-2000:]}") from None
            yield Server(url, process.pid)
        finally:
            _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    # The whole session: gunicorn's workers, or the dev server's reloader-free process.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
