"""Records one start of the app in `logs`: the persistence timeline of the page.

gunicorn's master runs `python -m desafio2.startup` once per container start
(gunicorn.conf.py, when_ready). It runs as a separate process rather than a
thread of the master: the master forks workers, and a fork while another thread
is inside libpq or holds a lock can leave the worker deadlocked.

The database may not answer yet (a restart of both containers, a slow volume):
the recorder retries with a growing pause (db.connect_when_ready) until
START_RECORD_DEADLINE_SECONDS, then gives up with one line on stderr. A missing start record costs a line of
the timeline; it must never cost the app, so nothing here can stop gunicorn.
"""

import socket
import sys

import psycopg2

from desafio2 import db, settings

ACAO = "app_iniciada"

MENSAGEM_PREFIX = "Aplicação iniciada no contêiner "

# The count shows, at each start, what the database already held: after a
# destroy and up, the new container's line says the users were still there.
RECORD_START = """
    INSERT INTO logs (acao, mensagem)
    SELECT %(acao)s, %(prefix)s || %(container)s || '; usuários no banco: ' || count(*)
    FROM usuarios
    RETURNING id
"""


def container_id() -> str:
    """Docker sets a container's hostname to the first 12 characters of its id."""
    return socket.gethostname()


def record_start(conn, container: str) -> int:
    """Writes the start record; returns its id in logs."""
    with conn, conn.cursor() as cursor:
        cursor.execute(
            RECORD_START, {"acao": ACAO, "prefix": MENSAGEM_PREFIX, "container": container}
        )
        return cursor.fetchone()[0]


def record_start_with_retry(
    connect_with: dict, container: str, deadline_seconds: float, log=print
) -> bool:
    try:
        conn = db.connect_when_ready(connect_with, deadline_seconds)
    except db.NotReady as error:
        log(
            f"start record: gave up after {error.attempts} attempts in {error.elapsed:.0f}s "
            f"(the timeline will miss this start): {error.reason}"
        )
        return False
    try:
        log_id = record_start(conn, container)
    except psycopg2.Error as error:
        log(f"start record: not written (the timeline will miss this start): {error}".strip())
        return False
    finally:
        conn.close()
    log(f"start record: container {container} recorded as logs.id={log_id}")
    return True


def main() -> int:
    try:
        config = settings.read()
        connect_with = db.connection_settings(config.database)
    except (OSError, ValueError) as error:  # an unreadable password file, a bad number
        print(f"start record: cannot read the database settings: {error}", file=sys.stderr)
        return 1

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    recorded = record_start_with_retry(
        connect_with, container_id(), config.start_record_deadline, log
    )
    return 0 if recorded else 1


if __name__ == "__main__":
    sys.exit(main())
