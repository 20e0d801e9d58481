"""The data the API is measured on: `users` usuarios, each with its creation
log, bulk-loaded in one statement per table, then vacuumed and analyzed so
the planner and the visibility map see the table as a long-running stack would."""

import time

from testing.postgres_server import PostgresServer

# Rows shaped like the API's own: the same log line CREATE_USUARIO writes, and
# creation times one second apart, ending now.
LOAD_USUARIOS = """
    INSERT INTO usuarios (nome, email, data_criacao)
    SELECT 'Usuário ' || i, 'usuario' || i || '@example.com',
           now() - (%(count)s - i) * interval '1 second'
    FROM generate_series(1, %(count)s) AS i
"""

LOAD_LOGS = """
    INSERT INTO logs (acao, mensagem, usuario_id, data_criacao)
    SELECT 'usuario_criado', 'Usuário criado: ' || nome || ' <' || email || '>', id, data_criacao
    FROM usuarios WHERE id > %(after)s ORDER BY id
"""


def load(server: PostgresServer, dbname: str, users: int) -> float:
    """Fills `dbname` (built by db/migrations) up to `users` usuarios; returns seconds taken."""
    started = time.monotonic()
    with server.connect(dbname) as cursor:
        cursor.execute("SELECT count(*), coalesce(max(id), 0) FROM usuarios")
        existing, last_id = cursor.fetchone()
        cursor.execute("BEGIN")
        cursor.execute(LOAD_USUARIOS, {"count": max(0, users - existing)})
        cursor.execute(LOAD_LOGS, {"after": last_id})
        cursor.execute("COMMIT")
        cursor.execute("VACUUM ANALYZE usuarios, logs")
    return time.monotonic() - started
