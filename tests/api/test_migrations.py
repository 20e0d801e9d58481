"""The migrations (app/desafio2/migrations/, db/migrations/) on a real PostgreSQL:
an empty database, a volume of the original project, this stack's earlier ones,
a migration that fails, and runs that race. The migrator program itself (its
backups, the API role's password, the upgrade of a volume without that role) is in
test_migrator.py."""

import itertools
import os
import threading
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest
import requests

from desafio2 import migrations
from desafio2.migrations import backups
from testing.figures import FAILING_STARTS, RACING_STARTS
from testing.gunicorn_server import GunicornApp
from testing.postgres_server import libpq_env
from testing.waiting import wait_for
from tests.api.databases import EVERY_ROW, facts, migrate, original_project_volume, run_sql

LATEST = len(migrations.load())
_names = itertools.count()


@pytest.fixture
def new_database(postgres_server):
    """Makes empty databases on the session's server; drops them afterwards."""
    made = []

    def make() -> str:
        made.append(postgres_server.create_empty_database(f"migrations_{next(_names)}"))
        return made[-1]

    yield make
    for name in made:
        postgres_server.drop_database(name)


def recorded(server, name: str) -> list[tuple]:
    return run_sql(server, name, "SELECT version, baseline FROM schema_migrations ORDER BY 1")


def backup_files(server) -> list[Path]:
    return sorted(server.backup_dir.glob("*.dump"))


def test_an_empty_database_gets_every_migration_and_exactly_the_seed_rows(
    postgres_server, new_database
):
    name = new_database()
    applied = migrate(postgres_server, name)
    assert applied == [m.label for m in migrations.load()]
    assert recorded(postgres_server, name) == [(v, False) for v in range(1, LATEST + 1)]
    assert run_sql(postgres_server, name, "SELECT id, email FROM usuarios ORDER BY id") == [
        (1, "joao@example.com"),
        (2, "maria@example.com"),
        (3, "pedro@example.com"),
    ]
    assert run_sql(postgres_server, name, "SELECT id, acao FROM logs ORDER BY id") == [
        (1, "banco_inicializado"),
        (2, "dados_iniciais"),
    ]


def test_a_second_start_changes_nothing(postgres_server, database):
    before = facts(postgres_server, database), run_sql(postgres_server, database, EVERY_ROW)
    assert migrate(postgres_server, database) == []
    assert (facts(postgres_server, database), run_sql(postgres_server, database, EVERY_ROW)) == (
        before
    )


def test_an_original_project_volume_is_adopted_with_every_row(postgres_server, new_database):
    name = original_project_volume(postgres_server, new_database())
    rows_before = run_sql(postgres_server, name, EVERY_ROW)
    lines = []

    applied = migrate(postgres_server, name, log=lines.append)

    assert applied == [m.label for m in migrations.load()[1:]]
    assert recorded(postgres_server, name) == [(1, True)] + [
        (v, False) for v in range(2, LATEST + 1)
    ]
    # Same ids, names, emails, and the same instants (the TIMESTAMPs were UTC).
    assert run_sql(postgres_server, name, EVERY_ROW) == rows_before
    assert run_sql(postgres_server, name, "SELECT id FROM usuarios ORDER BY id") == [
        (1,),
        (2,),
        (3,),
        (4,),
        (6,),
    ]
    # The counters start from the rows already there.
    counts = run_sql(
        postgres_server,
        name,
        "SELECT tabela, sum(linhas)::int FROM contagens GROUP BY 1 ORDER BY 1",
    )
    assert counts == [("logs", 3), ("usuarios", 5)]
    with pytest.raises(psycopg2.errors.UniqueViolation):
        run_sql(
            postgres_server,
            name,
            "INSERT INTO usuarios (nome, email) VALUES ('A', 'ANA.COSTA@example.com')",
        )
    assert any("backup before 0002_" in line for line in lines), lines


def test_a_fresh_database_and_a_migrated_original_one_have_the_same_schema(
    postgres_server, database, new_database
):
    migrated = original_project_volume(postgres_server, new_database())
    migrate(postgres_server, migrated)
    fresh = facts(postgres_server, database)
    assert (
        "index CREATE UNIQUE INDEX usuarios_email_key ON public.usuarios USING btree (lower((email)::text))"
        in fresh
    )
    assert facts(postgres_server, migrated) == fresh


# Before 0005 (the API's role) every database recorded its migrations: none is at 5 unrecorded.
@pytest.mark.parametrize(
    ("version", "pending"),
    [(3, ["0004_contagens", "0005_papel_da_api"]), (4, ["0005_papel_da_api"])],
)
def test_this_stacks_volumes_from_before_migrations_are_recognised(
    postgres_server, new_database, version, pending
):
    # What db/init.sql created before migrations existed: the schema at 0003 (the
    # first one) or 0004 (with contagens), without schema_migrations.
    name = new_database()
    migrate(postgres_server, name, migrations.load()[:version])
    run_sql(postgres_server, name, "DROP TABLE schema_migrations")

    assert migrate(postgres_server, name) == pending
    assert recorded(postgres_server, name) == [(v, v <= version) for v in range(1, LATEST + 1)]


def test_a_failing_migration_leaves_the_database_exactly_as_it_was(postgres_server, new_database):
    name = original_project_volume(
        postgres_server,
        new_database(),
        "INSERT INTO usuarios (nome, email) VALUES ('Ana C.', 'Ana.Costa@Example.com')",
    )
    schema_before = facts(postgres_server, name)
    rows_before = run_sql(postgres_server, name, EVERY_ROW)

    with pytest.raises(migrations.MigrationError) as failure:
        migrate(postgres_server, name)

    message = str(failure.value)
    assert "migration 0003_email_unico_sem_caixa failed" in message
    assert "emails that differ only in case" in message
    assert "id 4 'ana.costa@example.com', id 7 'Ana.Costa@Example.com'" in message
    assert "to resolve:" in message
    assert facts(postgres_server, name) == schema_before  # 0002 was undone too
    assert run_sql(postgres_server, name, EVERY_ROW) == rows_before
    assert "schema_migrations" not in str(schema_before)

    # Resolved as docs/schema.md says: the next start migrates.
    run_sql(postgres_server, name, "UPDATE usuarios SET email = 'ana.c@example.com' WHERE id = 7")
    assert migrate(postgres_server, name)[-1] == migrations.load()[-1].label


def test_the_app_serves_only_once_its_database_is_migrated(postgres_server, new_database):
    # As the stack starts them: the app waits (gunicorn.conf.py) for the migrator's run.
    ok = original_project_volume(postgres_server, new_database())
    waiting = GunicornApp(app_env(postgres_server, ok, SCHEMA_WAIT_DEADLINE_SECONDS="60"))
    try:
        wait_for(
            lambda: server_log(postgres_server).count("versao_do_esquema() does not exist") >= 2,
            60,
            "two looks of the app at a schema its migrator has not migrated yet",
        )
        assert postgres_server.run_migrator(ok).returncode == 0
    except BaseException:
        waiting.__exit__()
        raise
    with waiting as served:
        assert requests.get(f"{served.url}/status", timeout=5).json()["usuarios"] == 5
    refused = original_project_volume(
        postgres_server,
        new_database(),
        "INSERT INTO usuarios (nome, email) VALUES ('P', 'PEDRO@example.com')",
    )
    assert postgres_server.run_migrator(refused).returncode == 1
    never = GunicornApp(
        app_env(postgres_server, refused, SCHEMA_WAIT_DEADLINE_SECONDS="2"), capture_stderr=True
    )
    with pytest.raises(RuntimeError, match="exited with 1 before serving"), never:
        pass
    assert "schema_migrations" not in str(facts(postgres_server, refused))
    assert "for the migrator (db-migracoes) to apply migration" in never.stderr


def app_env(server, name: str, **extra: str) -> dict:
    """The app container's environment: libpq's settings for the role api."""
    return {**os.environ, **libpq_env(server.app_dsn(name)), **extra}


def server_log(server) -> str:
    return (server.root / "server.log").read_text(errors="replace")


def test_retries_of_the_same_data_write_one_backup(postgres_server, new_database):
    name = original_project_volume(
        postgres_server,
        new_database(),
        "INSERT INTO usuarios (nome, email) VALUES ('B', 'BRUNO@x.com'), ('b', 'bruno@X.com')",
    )
    before = set(backup_files(postgres_server))
    for _ in range(FAILING_STARTS):
        with pytest.raises(migrations.MigrationError):
            migrate(postgres_server, name)
    written = set(backup_files(postgres_server)) - before
    assert len(written) == 1
    dump = written.pop()
    assert dump.stat().st_mode & 0o077 == 0, "a dump of users' data is for its owner only"

    run_sql(postgres_server, name, "DELETE FROM usuarios WHERE nome = 'b'")
    migrate(postgres_server, name)
    assert len(set(backup_files(postgres_server)) - before) == 2


def test_no_backup_means_no_migration(postgres_server, new_database):
    # A database user who may not read every object (here: the sequences) cannot dump it.
    name = original_project_volume(postgres_server, new_database())
    run_sql(
        postgres_server,
        name,
        "CREATE ROLE sem_backup LOGIN PASSWORD 'x'; GRANT ALL ON ALL TABLES IN SCHEMA public TO sem_backup; GRANT CREATE ON SCHEMA public TO sem_backup",
    )
    schema_before = facts(postgres_server, name)
    try:
        with pytest.raises(migrations.MigrationError, match="no backup could be written"):
            migrate(postgres_server, name, user="sem_backup", password="x")
    finally:
        run_sql(postgres_server, name, "DROP OWNED BY sem_backup; DROP ROLE sem_backup")
    assert facts(postgres_server, name) == schema_before


def test_a_database_migrated_by_a_newer_app_is_left_alone(postgres_server, database):
    run_sql(
        postgres_server,
        database,
        "INSERT INTO schema_migrations VALUES (99, 'futura', now(), false)",
    )
    with pytest.raises(migrations.MigrationError, match=r"\[99\] that this app does not know"):
        migrate(postgres_server, database)


def test_starts_that_race_apply_each_migration_exactly_once(postgres_server, new_database):
    name = original_project_volume(postgres_server, new_database())
    starts = RACING_STARTS
    barrier = threading.Barrier(starts)
    applied: list[list[str]] = []
    errors: list[BaseException] = []

    def start():
        conn = psycopg2.connect(**postgres_server.dsn(name))
        conn.autocommit = True
        try:
            barrier.wait(timeout=30)
            applied.append(
                migrations.migrate(
                    conn,
                    migrations.load(),
                    log=lambda line: None,
                    api_password=postgres_server.api_password,
                    backups_to=backups.Target(postgres_server.backup_dir),
                )
            )
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            conn.close()

    threads = [threading.Thread(target=start) for _ in range(starts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sorted(map(len, applied)) == [0] * (starts - 1) + [LATEST - 1]
    assert recorded(postgres_server, name) == [(1, True)] + [
        (v, False) for v in range(2, LATEST + 1)
    ]
    assert run_sql(postgres_server, name, "SELECT count(*) FROM usuarios") == [(5,)]


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        (["0001_a.sql", "0003_c.sql"], "numbered 1, 2, 3"),
        (["0001_a.sql", "2_b.sql"], "NNNN_lower_case_name.sql"),
    ],
)
def test_a_badly_numbered_directory_is_refused(tmp_path, files, problem):
    for file in files:
        (tmp_path / file).write_text("SELECT 1;", encoding="utf-8")
    with pytest.raises(migrations.MigrationError, match=problem):
        migrations.load(tmp_path)
