"""The app waits for the migrator (app/desafio2/migrations/wait.py, run by gunicorn.conf.py's
on_starting) on a real PostgreSQL: as the role api, until the database is at the
newest migration the app knows, then it serves; at the deadline, one clear line and
no server."""

import os
import shutil
import subprocess
import sys

import pytest
import requests

from desafio2 import migrations
from testing.gunicorn_server import GunicornApp
from testing.postgres_server import APP_DIR, libpq_env
from testing.waiting import wait_for
from tests.api.databases import original_project_volume

LATEST = len(migrations.load())
# Deadlines on conditions, generous for a loaded machine: reaching one is a failure.
DEADLINE_SECONDS = 60


@pytest.fixture
def unmigrated(postgres_server):
    """A volume of the original project the migrator has not run on yet."""
    name = original_project_volume(postgres_server, postgres_server.create_empty_database("late"))
    yield name
    postgres_server.drop_database(name)


def app_env(server, name: str, **extra: str) -> dict:
    """The app container's environment: libpq's settings of the role api, nothing of the
    owner's."""
    return {**os.environ, **libpq_env(server.app_dsn(name)), **extra}


def schema_wait(env: dict, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "desafio2.migrations.wait"],
        cwd=APP_DIR,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def looks(server) -> int:
    """How many times the app asked a database without versao_do_esquema() (the server logs each)."""
    log = (server.root / "server.log").read_text(errors="replace")
    return log.count("function versao_do_esquema() does not exist")


def test_the_wait_ends_once_the_migrator_has_run(postgres_server, unmigrated):
    before = looks(postgres_server)
    waiting = schema_wait(app_env(postgres_server, unmigrated))
    try:

        def looked_twice() -> bool:
            assert waiting.poll() is None, "the app stopped waiting for the migrator"
            return looks(postgres_server) >= before + 2

        wait_for(looked_twice, DEADLINE_SECONDS, "two looks at the schema before the migrator")
        assert postgres_server.run_migrator(unmigrated).returncode == 0
        _, stderr = waiting.communicate(timeout=DEADLINE_SECONDS)
    finally:
        waiting.kill()
    assert waiting.returncode == 0, stderr
    assert f"schema: version {LATEST} in place" in stderr


def test_at_the_deadline_one_line_says_what_it_waited_for_and_what_it_found(
    postgres_server, unmigrated
):
    waiting = schema_wait(app_env(postgres_server, unmigrated, SCHEMA_WAIT_DEADLINE_SECONDS="1"))
    _, stderr = waiting.communicate(timeout=DEADLINE_SECONDS)
    assert waiting.returncode == 1
    (line,) = stderr.strip().splitlines()
    assert line.startswith("schema: the app does not start: waited ")
    assert f"for the migrator (db-migracoes) to apply migration {LATEST}" in line
    assert "found: no versao_do_esquema() yet, so older than 0005" in line


def test_a_database_behind_the_apps_migrations_is_waited_for_with_its_version(
    postgres_server, database, tmp_path
):
    # This app knows one migration more than the database holds: a newer image.
    newer = tmp_path / "migrations"
    shutil.copytree(migrations.DEFAULT_DIRECTORY, newer)
    (newer / f"{LATEST + 1:04d}_futura.sql").write_text("SELECT 1;\n")
    env = app_env(
        postgres_server, database, MIGRATIONS_DIR=str(newer), SCHEMA_WAIT_DEADLINE_SECONDS="1"
    )
    _, stderr = schema_wait(env).communicate(timeout=DEADLINE_SECONDS)
    assert f"to apply migration {LATEST + 1}; found: version {LATEST}" in stderr


def test_gunicorn_waits_then_serves_or_exits_with_that_line(postgres_server, unmigrated):
    never = GunicornApp(
        app_env(postgres_server, unmigrated, SCHEMA_WAIT_DEADLINE_SECONDS="1"),
        capture_stderr=True,
    )
    with pytest.raises(RuntimeError, match="exited with 1 before serving"), never:
        pass
    assert "Error: schema: the app does not start: waited " in never.stderr
    assert postgres_server.run_migrator(unmigrated).returncode == 0
    with GunicornApp(app_env(postgres_server, unmigrated), capture_stderr=True) as served:
        assert requests.get(f"{served.url}/status", timeout=5).json()["usuarios"] == 5
    assert f"schema: version {LATEST} in place" in served.stderr
