"""Databases the migration tests start from, and how they read them: as the owner, on
the session's server or one of their own (tests/api/test_migrations.py, test_migrator.py)."""

import psycopg2

from desafio2 import migrations
from desafio2.migrations import backups
from testing.postgres_server import autocommit_cursor
from testing.schema import schema_facts

ORIGINAL = migrations.load()[0]
# Users a user of the original project added, with a gap in the ids where one was deleted.
HAND_ADDED = [
    ("Ana Costa", "ana.costa@example.com"),
    ("Bruno Dias", "bruno@example.com"),
    ("Carla Souza", "Carla.Souza@Example.com"),
]
EVERY_ROW = """
    SELECT 'usuarios', id, nome || ' ' || email || ' ' || extract(epoch FROM data_criacao)
    FROM usuarios
    UNION ALL
    SELECT 'logs', id, acao || ' ' || mensagem || ' ' || coalesce(usuario_id::text, '-')
           || ' ' || extract(epoch FROM data_criacao)
    FROM logs
    ORDER BY 1, 2
"""


def migrate(server, name: str, migrations_list=None, log=lambda line: None, **dsn) -> list[str]:
    """The migrator's work on database `name` (as another user with user=...,
    password=...); returns the labels applied."""
    conn = psycopg2.connect(**{**server.dsn(name), **dsn})
    conn.autocommit = True
    try:
        return migrations.migrate(
            conn,
            migrations_list or migrations.load(),
            log,
            api_password=server.api_password,
            backups_to=backups.Target(server.backup_dir),
        )
    finally:
        conn.close()


def run_sql(server, name: str, sql: str, params=None) -> list[tuple]:
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
