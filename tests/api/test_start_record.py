"""Each start of the app writes one `app_iniciada` row to logs (api/startup.py,
run by gunicorn.conf.py's when_ready): on a real PostgreSQL, through the same
command line and gunicorn config as the image."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from api import startup
from testing.postgres_server import free_port

APP_DIR = Path(__file__).resolve().parents[2] / "app"
STARTS = "SELECT mensagem FROM logs WHERE acao = 'app_iniciada' ORDER BY id"


# libpq's variables, as the stack sets them for the app, and the dsn key each comes from.
LIBPQ_VARIABLES = {"PGHOST": "host", "PGPORT": "port", "PGUSER": "user", "PGDATABASE": "dbname"}


def app_environment(dsn: dict, tmp_path: Path, **extra: str) -> dict:
    # The password in a file, never in the environment, as the stack passes it.
    password_file = tmp_path / "db_password"
    password_file.write_text(dsn["password"] + "\n")
    return {
        **os.environ,
        **{variable: str(dsn[key]) for variable, key in LIBPQ_VARIABLES.items()},
        "DATABASE_PASSWORD_FILE": str(password_file),
        **extra,
    }


def run_recorder(env: dict, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "api.startup"],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_recorder_writes_one_start_with_the_container_id_and_user_count(
    postgres_server, database, rows, tmp_path
):
    result = run_recorder(app_environment(postgres_server.dsn(database), tmp_path))
    assert result.returncode == 0, result.stderr
    assert rows.query(STARTS) == [
        (f"Aplicação iniciada no contêiner {startup.container_id()}; usuários no banco: 3",)
    ]
    assert "recorded as logs.id=3" in result.stderr


def test_recorder_waits_for_a_database_that_is_not_there_yet(
    postgres_server, rows, database, tmp_path
):
    late = f"{database}_late"
    env = app_environment(postgres_server.dsn(late), tmp_path)
    recorder = subprocess.Popen(
        [sys.executable, "-m", "api.startup"],
        cwd=APP_DIR,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)  # a few refused attempts first
        assert recorder.poll() is None
        postgres_server.create_database(late, postgres_server.template)
        _, stderr = recorder.communicate(timeout=30)
        assert recorder.returncode == 0, stderr
        with postgres_server.connect(late) as cursor:
            cursor.execute(STARTS)
            assert len(cursor.fetchall()) == 1
    finally:
        with contextlib.suppress(subprocess.TimeoutExpired):
            recorder.kill()
        postgres_server.drop_database(late)


def test_recorder_gives_up_quietly_when_the_database_never_answers(
    postgres_server, database, tmp_path
):
    dsn = {**postgres_server.dsn(database), "port": free_port()}
    started = time.monotonic()
    result = run_recorder(
        app_environment(dsn, tmp_path, START_RECORD_DEADLINE_SECONDS="2"), timeout=20
    )
    assert result.returncode == 1
    assert time.monotonic() - started < 10
    assert "start record: gave up after" in result.stderr
    assert "Traceback" not in result.stderr


@contextlib.contextmanager
def gunicorn_with_image_config(env: dict):
    """gunicorn as the image runs it (its gunicorn.conf.py), bound to 127.0.0.1 only."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    command += [f"--bind=127.0.0.1:{port}", "--workers=2", "--access-logfile=/dev/null"]
    # Popen's exit waits for gunicorn, which stops within its graceful_timeout.
    with subprocess.Popen([*command, "api:create_app()"], cwd=APP_DIR, env=env) as process:
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()


def wait_for_starts(rows, count: int, seconds: float = 20) -> list[tuple]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = rows.query(STARTS)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    return rows.query(STARTS)


def test_each_gunicorn_start_is_recorded_once_whatever_the_worker_count(
    postgres_server, database, rows, tmp_path
):
    env = app_environment(postgres_server.dsn(database), tmp_path)
    for start in (1, 2):
        with gunicorn_with_image_config(env) as url:
            assert len(wait_for_starts(rows, start)) == start
            page = _get_when_serving(f"{url}/")
            assert page.status_code == 200
            assert "este contêiner" in page.text
            time.sleep(0.5)  # a second recorder, if any, would have written by now
            assert len(rows.query(STARTS)) == start


def _get_when_serving(url: str, seconds: float = 20) -> requests.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return requests.get(url, timeout=5)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
