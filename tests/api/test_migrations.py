"""The start-up migrations (app/desafio2/migrations.py, db/migrations/) on a real PostgreSQL:
an empty database, a volume of the original project, this stack's earlier ones,
a migration that fails, and starts that race."""

import itertools
import threading
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest
import requests

from desafio2 import backups, migrations
from testing.gunicorn_server import gunicorn_app
from testing.postgres_server import autocommit_cursor
from tests.support.schema import schema_facts

ORIGINAL = migrations.load()[0]
LATEST = len(migrations.load())
# Users a user of the original project added, with a gap in the ids where one was deleted.
HAND_ADDED = [
    ("Ana Costa", "ana.costa@example.com"),
    ("Bruno Dias", "bruno@example.com"),
    ("Carla Souza", "Carla.Souza@Example.com"),
]
# Docker restarting a container whose migration fails, and app starts at once.
FAILING_STARTS = 3
RACING_STARTS = 6
EVERY_ROW = """
    SELECT 'usuarios', id, nome || ' ' || email || ' ' || extract(epoch FROM data_criacao)
    FROM usuarios
    UNION ALL
    SELECT 'logs', id, acao || ' ' || mensagem || ' ' || coalesce(usuario_id::text, '-')
           || ' ' || extract(epoch FROM data_criacao)
    FROM logs
    ORDER BY 1, 2
"""
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


def migrate(server, name: str, migrations_list=None, log=lambda line: None, **dsn) -> list[str]:
    """The app's start-up migration of database `name` (as another user with
    user=..., password=...); returns the labels applied."""
    conn = psycopg2.connect(**{**server.dsn(name), **dsn})
    conn.autocommit = True
    try:
        return migrations.migrate(conn, migrations_list or migrations.load(), log)
    finally:
        conn.close()


def run_sql(server, name: str, sql: str, params=()) -> list[tuple]:
    with autocommit_cursor(server.dsn(name)) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def original_project_volume(server, name: str, extra_sql: str = "") -> str:
    """What the original project leaves in its database: 0001 (schema and seed rows),
    users added since, one of them deleted, and the server's clock in UTC."""
    run_sql(server, name, ORIGINAL.sql)
    for nome, email in HAND_ADDED:
        run_sql(server, name, "INSERT INTO usuarios (nome, email) VALUES (%s, %s)", (nome, email))
    run_sql(server, name, "DELETE FROM usuarios WHERE email = 'bruno@example.com'")
    run_sql(server, name, "INSERT INTO logs (acao, mensagem, usuario_id) VALUES ('x', 'y', 4)")
    if extra_sql:
        run_sql(server, name, extra_sql)
    return name


def facts(server, name: str) -> list[str]:
    with autocommit_cursor(server.dsn(name)) as cursor:
        return schema_facts(cursor)


def recorded(server, name: str) -> list[tuple]:
    return run_sql(server, name, "SELECT version, baseline FROM schema_migrations ORDER BY 1")


def backup_files(server) -> list[Path]:
    return sorted((server.datadir / backups.DIRECTORY).glob("*.dump"))


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


@pytest.mark.parametrize(("version", "pending"), [(3, ["0004_contagens"]), (LATEST, [])])
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
    assert migrate(postgres_server, name)[-1] == "0004_contagens"


def test_the_app_serves_only_once_its_database_is_migrated(postgres_server, new_database):
    # As the image starts it: gunicorn.conf.py runs the migrations before listening.
    ok = original_project_volume(postgres_server, new_database())
    with gunicorn_app(postgres_server.dsn(ok)) as url:
        assert requests.get(f"{url}/status", timeout=5).json()["usuarios"] == 5
    refused = original_project_volume(
        postgres_server,
        new_database(),
        "INSERT INTO usuarios (nome, email) VALUES ('P', 'PEDRO@example.com')",
    )
    with (
        pytest.raises(RuntimeError, match="exited with 1 before serving"),
        gunicorn_app(postgres_server.dsn(refused)),
    ):
        pass
    assert "schema_migrations" not in str(facts(postgres_server, refused))


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
    # A database user who may not run programs on the server cannot write the backup.
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
            applied.append(migrations.migrate(conn, migrations.load(), log=lambda line: None))
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
