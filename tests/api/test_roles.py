"""The role the API connects as, `api` (db/migrations/0005_papel_da_api.sql), on a real
PostgreSQL: the rights its queries need, and nothing more. The whole API suite runs as
this role (tests/conftest.py), so a grant it lacks fails an endpoint's test too."""

import itertools

import psycopg2
import psycopg2.errors
import pytest

from desafio2 import migrations
from testing.postgres_server import autocommit_cursor

LATEST = len(migrations.load())
# Tables of schema public that give `api` no privilege at all, each on purpose. Any
# other table is one the API uses: its migration grants `api` what the API does with
# it (docs/schema.md, "Grants follow new tables").
NO_API_ACCESS = {
    # The migrator's record of what was applied; the app reads only the version, through
    # versao_do_esquema().
    "schema_migrations",
}
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
# Tables, views and the like of schema public on which `api` holds none of these.
WITHOUT_API_PRIVILEGE = """
    SELECT relname FROM pg_class
    WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p', 'v', 'm', 'f')
      AND NOT has_table_privilege('api', oid, %(privileges)s)
    ORDER BY relname
"""
# The sequences behind the column defaults of the tables `api` inserts into.
SEQUENCES_API_NEEDS = """
    SELECT DISTINCT pg_get_serial_sequence(c.oid::regclass::text, a.attname)
    FROM pg_class AS c
    JOIN pg_attribute AS a ON a.attrelid = c.oid
    JOIN pg_attrdef AS d ON d.adrelid = c.oid AND d.adnum = a.attnum
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
      AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%'
      AND has_table_privilege('api', c.oid, 'INSERT')
"""
ROLES_API_MUST_NOT_HAVE = (
    "pg_execute_server_program",
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_read_all_data",
    "pg_write_all_data",
)
_names = itertools.count()


def tables_without_api_privilege(cursor) -> list[str]:
    cursor.execute(WITHOUT_API_PRIVILEGE, {"privileges": ", ".join(TABLE_PRIVILEGES)})
    return [table for (table,) in cursor.fetchall()]


@pytest.fixture(scope="module")
def migrated(postgres_server):
    """A database the migrator made from empty, as the stack's first up does: unlike the
    suite's copies of the template, it has the database-level grants of 0005 too
    (CREATE DATABASE ... TEMPLATE does not copy them)."""
    name = f"roles_{next(_names)}"
    postgres_server.create_empty_database(name)
    ran = postgres_server.run_migrator(name)
    assert ran.returncode == 0, ran.stderr
    yield name
    postgres_server.drop_database(name)


@pytest.fixture
def as_api(postgres_server, migrated):
    """A cursor of the role api, in autocommit, on the migrated database."""
    with autocommit_cursor(postgres_server.app_dsn(migrated)) as cursor:
        yield cursor


@pytest.fixture
def as_owner(postgres_server, migrated):
    with autocommit_cursor(postgres_server.dsn(migrated)) as cursor:
        yield cursor


def refused(cursor, statement: str) -> str:
    """The statement fails for want of a right (PostgreSQL's own words)."""
    with pytest.raises(psycopg2.errors.InsufficientPrivilege) as failure:
        cursor.execute(statement)
    return str(failure.value)


def test_every_table_the_api_may_not_touch_is_on_the_commented_list(rows):
    # The suite's template: every migration of db/migrations, as the migrator applies them.
    with rows.connection() as cursor:
        assert tables_without_api_privilege(cursor) == sorted(NO_API_ACCESS)


def test_a_table_added_without_its_grant_is_found(rows):
    with rows.connection() as cursor:
        cursor.execute("CREATE TABLE esquecida (id SERIAL PRIMARY KEY)")
        assert "esquecida" in tables_without_api_privilege(cursor)


def test_the_api_role_may_take_ids_from_every_sequence_of_a_table_it_inserts_into(rows):
    with rows.connection() as cursor:
        cursor.execute(SEQUENCES_API_NEEDS)
        sequences = sorted(sequence for (sequence,) in cursor.fetchall())
        assert sequences == ["public.logs_id_seq", "public.usuarios_id_seq"]
        for sequence in sequences:
            cursor.execute("SELECT has_sequence_privilege('api', %s, 'USAGE')", (sequence,))
            assert cursor.fetchone() == (True,), sequence


def test_the_api_role_is_no_superuser_and_may_create_no_role_nor_database(as_owner):
    as_owner.execute(
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolinherit,"
        " rolcanlogin FROM pg_roles WHERE rolname = 'api'"
    )
    assert as_owner.fetchone() == (False, False, False, False, False, False, True)


def test_the_api_role_owns_nothing(as_owner):
    as_owner.execute(
        """SELECT (SELECT count(*) FROM pg_class WHERE relowner = 'api'::regrole)
                + (SELECT count(*) FROM pg_proc WHERE proowner = 'api'::regrole)
                + (SELECT count(*) FROM pg_namespace WHERE nspowner = 'api'::regrole)
                + (SELECT count(*) FROM pg_type WHERE typowner = 'api'::regrole)
                + (SELECT count(*) FROM pg_database WHERE datdba = 'api'::regrole)"""
    )
    assert as_owner.fetchone() == (0,)


@pytest.mark.parametrize("role", ["CURRENT_USER", *ROLES_API_MUST_NOT_HAVE])
def test_the_api_role_is_a_member_of_no_role_that_could_do_more(as_owner, role):
    owner = "current_user" if role == "CURRENT_USER" else f"'{role}'"
    as_owner.execute(f"SELECT pg_has_role('api', {owner}, 'MEMBER')")
    assert as_owner.fetchone() == (False,)


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE intrusa (id int)",
        "CREATE TEMP TABLE intrusa (id int)",
        "CREATE SCHEMA intruso",
        "CREATE FUNCTION intrusa() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE INDEX intruso ON usuarios (nome)",
        "ALTER TABLE usuarios ADD COLUMN intrusa int",
        "ALTER TABLE logs DROP CONSTRAINT logs_usuario_id_fkey",
        "DROP TABLE logs",
        "DROP TABLE contagens",
        "TRUNCATE usuarios",
        "UPDATE usuarios SET nome = 'x'",
        "DELETE FROM logs",
        "UPDATE contagens SET linhas = 0",
        "INSERT INTO contagens VALUES ('usuarios', 0, 1)",
        "SELECT * FROM schema_migrations",
        "INSERT INTO schema_migrations VALUES (99, 'x', now(), false)",
        "SELECT * FROM pg_authid",
        "COPY (SELECT 1) TO PROGRAM 'true'",
        "COPY logs (acao, mensagem) FROM PROGRAM 'echo x'",
        "COPY usuarios TO '/tmp/usuarios.copy'",
        "COPY logs (acao) FROM '/etc/hostname'",
        "SELECT pg_read_file('/etc/hostname')",
        "ALTER ROLE api SUPERUSER",
        "CREATE ROLE intrusa",
        "GRANT usuario TO api",
    ],
)
def test_the_api_role_cannot(as_api, statement):
    refused(as_api, statement)


def test_the_api_role_reads_the_schema_version_only_through_its_function(as_api, as_owner):
    as_api.execute("SELECT versao_do_esquema()")
    assert as_api.fetchone() == (LATEST,)
    # Nobody else: the function is SECURITY DEFINER, its EXECUTE taken from PUBLIC.
    as_owner.execute(
        "SELECT proname, array_to_string(proacl, ' ') ~ '(^| )=X/', prosecdef, proconfig"
        " FROM pg_proc WHERE proname IN ('versao_do_esquema', 'contar_linhas') ORDER BY 1"
    )
    search_path = ["search_path=pg_catalog, public, pg_temp"]
    assert as_owner.fetchall() == [
        ("contar_linhas", False, True, search_path),
        ("versao_do_esquema", False, True, search_path),
    ]
    as_owner.execute("SELECT has_function_privilege('api', 'contar_linhas()', 'EXECUTE')")
    assert as_owner.fetchone() == (False,)


def test_the_counters_follow_the_api_roles_writes_it_may_not_make_itself(as_api):
    as_api.execute("INSERT INTO usuarios (nome, email) VALUES ('Ana', 'ana@example.com')")
    as_api.execute("SELECT sum(linhas) FILTER (WHERE tabela = 'usuarios') FROM contagens")
    assert as_api.fetchone() == (4,)


def test_only_the_owner_and_the_api_role_may_connect(as_owner, migrated):
    as_owner.execute(
        "SELECT has_database_privilege('api', %(db)s, 'CONNECT'),"
        " has_database_privilege('api', %(db)s, 'TEMPORARY'),"
        " array_to_string(datacl, ' ') ~ '(^| )=' FROM pg_database WHERE datname = %(db)s",
        {"db": migrated},
    )
    assert as_owner.fetchone() == (True, False, False)
