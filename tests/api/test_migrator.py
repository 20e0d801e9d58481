"""The migrator, `python -m desafio2.migrations`, as the stack's container `db-migracoes`
runs it, on a real PostgreSQL: its backup by pg_dump into BACKUP_DIR, which pg_restore
reads; one backup for the same data; a failure that leaves everything as it was, the
API role's password included; that password set without ever reaching the server in
plaintext; volumes of today's stack and of the original project upgraded on a server
where the role api does not exist yet."""

import os
import stat
import subprocess

import psycopg2
import pytest

from desafio2 import create_app, migrations
from desafio2.migrations import backups
from testing.postgres_server import PostgresServer, autocommit_cursor
from tests.api.databases import EVERY_ROW, facts, original_project_volume, run_sql

LATEST = len(migrations.load())
BACKUP_LINE = "migrations: backup before 0002_datas_com_fuso_e_validacoes written: "
API_PASSWORD = "SELECT rolpassword FROM pg_authid WHERE rolname = 'api'"
# The same rows twice but for case: 0003 refuses them.
REFUSED_BY_0003 = (
    "INSERT INTO usuarios (nome, email) VALUES ('B', 'BRUNO@x.com'), ('b', 'bruno@X.com')"
)


@pytest.fixture
def fresh_server(postgres_server):
    """A server of its own, logging every statement: no role api yet, as the server of a
    volume made before 0005, and its password free to change."""
    server = PostgresServer(postgres_server.bindir, {"log_statement": "all"}).start()
    yield server
    server.stop()


def new_database(server, name: str = "aplicacao") -> str:
    return server.create_empty_database(name)


def migrator_ok(server, name: str, **extra: str) -> str:
    ran = server.run_migrator(name, **extra)
    assert ran.returncode == 0, ran.stderr
    return ran.stderr


def test_the_backup_is_pg_dumps_in_backup_dir_and_pg_restore_reads_it(fresh_server):
    name = original_project_volume(fresh_server, new_database(fresh_server))
    rows_before = run_sql(fresh_server, name, EVERY_ROW)

    said = migrator_ok(fresh_server, name)

    line = next(line for line in said.splitlines() if line.startswith(BACKUP_LINE))
    dump = fresh_server.backup_dir / os.path.basename(line.removeprefix(BACKUP_LINE))
    assert line.removeprefix(BACKUP_LINE) == str(dump)
    assert dump.name.startswith(f"{name}-") and dump.name.endswith(".dump")
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    assert [p.name for p in fresh_server.backup_dir.iterdir()] == [dump.name]  # no .partial
    restored = new_database(fresh_server, "restaurada")
    subprocess.run(
        [
            str(fresh_server.bindir / "pg_restore"),
            "--exit-on-error",
            "--no-owner",
            *("--host", "127.0.0.1", "--port", str(fresh_server.port)),
            *("--username", fresh_server.user, "--dbname", restored, str(dump)),
        ],
        env={**os.environ, "PGPASSWORD": fresh_server.password},
        check=True,
        capture_output=True,
    )
    # The rows as they were before the migrations: the original project's schema.
    assert run_sql(fresh_server, restored, EVERY_ROW) == rows_before
    assert "schema_migrations" not in str(facts(fresh_server, restored))


def test_a_retried_run_on_the_same_data_writes_no_second_backup(postgres_server, tmp_path):
    name = original_project_volume(
        postgres_server, postgres_server.create_empty_database("retried"), REFUSED_BY_0003
    )
    backup_dir = tmp_path / "backups"
    try:
        runs = [postgres_server.run_migrator(name, BACKUP_DIR=str(backup_dir)) for _ in range(3)]
    finally:
        postgres_server.drop_database(name)
    assert [run.returncode for run in runs] == [1, 1, 1]
    (dump,) = backup_dir.glob("*.dump")
    for run in runs[1:]:
        assert f"migrations: backup of this same data already written: {dump}" in run.stderr
    assert "migrations: FAILED, the app does not start." in runs[-1].stderr


def test_a_failing_run_leaves_rows_schema_and_the_api_password_as_they_were(fresh_server, tmp_path):
    name = new_database(fresh_server)
    migrator_ok(fresh_server, name)  # the role api, with the first password
    refused = original_project_volume(fresh_server, new_database(fresh_server, "original"))
    run_sql(fresh_server, refused, REFUSED_BY_0003)
    before = facts(fresh_server, refused), run_sql(fresh_server, refused, EVERY_ROW)
    password_before = run_sql(fresh_server, name, API_PASSWORD)
    other = tmp_path / "other-password"
    other.write_text("another-password")

    ran = fresh_server.run_migrator(refused, API_DATABASE_PASSWORD_FILE=str(other))

    assert ran.returncode == 1
    assert "migrations: FAILED" in ran.stderr and "differ only in case" in ran.stderr
    assert (facts(fresh_server, refused), run_sql(fresh_server, refused, EVERY_ROW)) == before
    assert run_sql(fresh_server, name, API_PASSWORD) == password_before
    with autocommit_cursor(fresh_server.app_dsn(name)) as cursor:  # the first password
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == ("api",)


def test_the_migrator_gives_the_api_role_its_password_never_in_plaintext(fresh_server, tmp_path):
    name = new_database(fresh_server)
    said = migrator_ok(fresh_server, name)
    assert "migrations: role api: may log in" in said
    with autocommit_cursor(fresh_server.app_dsn(name)) as cursor:
        cursor.execute("SELECT current_user, versao_do_esquema()")
        assert cursor.fetchone() == ("api", LATEST)
    # A run with nothing pending sets it again: the password of the file wins.
    changed = tmp_path / "changed"
    changed.write_text("a-changed-password\n")
    said = migrator_ok(fresh_server, name, API_DATABASE_PASSWORD_FILE=str(changed))
    assert f"the schema is current (version {LATEST})" in said
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(**fresh_server.app_dsn(name)).close()
    psycopg2.connect(**{**fresh_server.app_dsn(name), "password": "a-changed-password"}).close()
    (verifier,) = run_sql(fresh_server, name, API_PASSWORD)[0]
    assert verifier.startswith("SCRAM-SHA-256$")
    log = (fresh_server.root / "server.log").read_text(errors="replace")
    assert "ALTER ROLE api LOGIN PASSWORD 'SCRAM-SHA-256$" in log  # log_statement=all
    assert fresh_server.api_password not in log and "a-changed-password" not in log


def test_without_the_api_password_file_the_migrator_changes_nothing(fresh_server):
    name = new_database(fresh_server)
    ran = fresh_server.run_migrator(name, API_DATABASE_PASSWORD_FILE="")
    assert ran.returncode == 1
    assert "migrations: FAILED" in ran.stderr
    assert "API_DATABASE_PASSWORD_FILE is not set" in ran.stderr
    assert facts(fresh_server, name) == []


def test_a_refused_password_is_said_while_the_migrator_waits(fresh_server):
    # It never mends by itself: make up's verdict needs the line to name the cause.
    name = new_database(fresh_server)
    ran = fresh_server.run_migrator(
        name, PGPASSWORD="not-the-owners-password", MIGRATIONS_DEADLINE_SECONDS="2"
    )
    waiting = [line for line in ran.stderr.splitlines() if "waiting for the database" in line]
    assert ran.returncode == 1
    assert len(waiting) == 1 and "password authentication failed" in waiting[0], ran.stderr


def test_a_pg_dump_of_another_major_version_is_refused(postgres_server, tmp_path):
    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 17.2'\n")
    fake.chmod(0o755)
    name = original_project_volume(postgres_server, postgres_server.create_empty_database("v17"))
    try:
        before = facts(postgres_server, name)
        conn = psycopg2.connect(**postgres_server.dsn(name))
        conn.autocommit = True
        with pytest.raises(migrations.MigrationError) as failure:
            migrations.migrate(
                conn,
                migrations.load(),
                api_password="x",
                backups_to=backups.Target(tmp_path / "backups", pg_dump=str(fake)),
            )
        conn.close()
        assert facts(postgres_server, name) == before
    finally:
        postgres_server.drop_database(name)
    message = str(failure.value)
    assert "no backup could be written" in message
    assert "17.2" in message and "PostgreSQL 15" in message
    assert "install postgresql-client-15" in message


def stack_0004_volume(server, name: str) -> str:
    """What today's stack leaves in its volume: 0001 to 0004 applied and recorded by the
    owner, users added and one deleted, no role api."""
    for migration in migrations.load()[:4]:
        run_sql(server, name, migration.sql)
    run_sql(server, name, migrations.TRACKING_TABLE)
    for migration in migrations.load()[:4]:
        run_sql(server, name, migrations.RECORD, (migration.version, migration.name, False))
    for nome, email in [("Ana", "ana@example.com"), ("Bia", "bia@example.com")]:
        run_sql(server, name, "INSERT INTO usuarios (nome, email) VALUES (%s, %s)", (nome, email))
    run_sql(server, name, "DELETE FROM usuarios WHERE email = 'ana@example.com'")
    return name


@pytest.mark.parametrize(
    ("volume", "users"),
    [(stack_0004_volume, [1, 2, 3, 5]), (original_project_volume, [1, 2, 3, 4, 6])],
    ids=["made by today's stack", "of the original project"],
)
def test_a_volume_without_the_api_role_is_upgraded_with_every_row_and_id(
    fresh_server, volume, users
):
    name = volume(fresh_server, new_database(fresh_server))
    assert run_sql(fresh_server, name, "SELECT count(*) FROM pg_roles WHERE rolname = 'api'") == [
        (0,)
    ]
    rows_before = run_sql(fresh_server, name, EVERY_ROW)

    migrator_ok(fresh_server, name)

    assert run_sql(fresh_server, name, EVERY_ROW) == rows_before
    app = create_app({"TESTING": True, "DATABASE": fresh_server.app_dsn(name)})
    try:
        client = app.test_client()
        assert [u["id"] for u in client.get("/usuarios").get_json()] == users
        created = client.post("/usuarios", json={"nome": "Caio", "email": "caio@example.com"})
        assert created.status_code == 201 and created.get_json()["id"] == users[-1] + 1
        status = client.get("/status").get_json()
        assert (status["usuarios"], status["logs"]) == (
            len(users) + 1,
            len(rows_before) - len(users) + 1,
        )
    finally:
        app.extensions["db_pool"].close()
    # The owner is still who ran the migrations; api owns nothing.
    assert run_sql(
        fresh_server, name, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
    ) == [(fresh_server.user,)]
