"""Each start of the app writes one `app_iniciada` row to logs (desafio2/startup.py,
run by gunicorn.conf.py's when_ready): on a real PostgreSQL, through the same
command line and gunicorn config as the image."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import requests

from desafio2 import startup
from testing.gunicorn_server import GunicornApp
from testing.postgres_server import free_port
from testing.waiting import wait_for

APP_DIR = Path(__file__).resolve().parents[2] / "app"
STARTS = "SELECT mensagem FROM logs WHERE acao = 'app_iniciada' ORDER BY id"
# Deadlines on conditions, generous for a loaded machine: reaching one is a failure.
DEADLINE_SECONDS = 60


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


def run_recorder(env: dict, timeout: float = DEADLINE_SECONDS) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "desafio2.startup"],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_recorder_writes_one_start_with_the_container_id_and_user_count(
    postgres_server, database, rows, tmp_path
):
    result = run_recorder(app_environment(postgres_server.app_dsn(database), tmp_path))
    assert result.returncode == 0, result.stderr
    assert rows.query(STARTS) == [
        (f"Aplicação iniciada no contêiner {startup.container_id()}; usuários no banco: 3",)
    ]
    assert "recorded as logs.id=3" in result.stderr


def test_recorder_waits_for_a_database_that_is_not_there_yet(
    postgres_server, rows, database, tmp_path
):
    late = f"{database}_late"
    env = app_environment(postgres_server.app_dsn(late), tmp_path)
    recorder = subprocess.Popen(
        [sys.executable, "-m", "desafio2.startup"],
        cwd=APP_DIR,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )

    def refused_twice() -> bool:
        assert recorder.poll() is None, "the recorder stopped waiting for the database"
        return server_log(postgres_server).count(f'database "{late}" does not exist') >= 2

    try:
        # The server logs each refused attempt: wait for a few, not for a time.
        wait_for(refused_twice, DEADLINE_SECONDS, "two refused attempts of the recorder")
        postgres_server.create_database(late, postgres_server.template)
        _, stderr = recorder.communicate(timeout=DEADLINE_SECONDS)
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
    dsn = {**postgres_server.app_dsn(database), "port": free_port()}
    # run_recorder's timeout is the generous deadline: a recorder that never gave up fails it.
    result = run_recorder(app_environment(dsn, tmp_path, START_RECORD_DEADLINE_SECONDS="2"))
    assert result.returncode == 1
    assert "start record: gave up after" in result.stderr
    assert "Traceback" not in result.stderr


def server_log(postgres_server) -> str:
    return (postgres_server.root / "server.log").read_text(errors="replace")


def test_each_gunicorn_start_is_recorded_once_whatever_the_worker_count(
    postgres_server, database, rows, tmp_path
):
    env = app_environment(postgres_server.app_dsn(database), tmp_path)
    for start in (1, 2):
        with GunicornApp(env, "--workers=2", capture_stderr=True) as server:
            wait_for(
                lambda n=start: len(rows.query(STARTS)) >= n,
                DEADLINE_SECONDS,
                f"start record {start}",
            )
            page = requests.get(f"{server.url}/", timeout=10)
            assert page.status_code == 200
            assert "este contêiner" in page.text
        # Every recorder of this start has exited: what is written now is all there will be.
        assert len(rows.query(STARTS)) == start
        assert server.stderr.count("start record: container") == 1, server.stderr
