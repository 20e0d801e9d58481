"""Records one start of the app in `logs`: the persistence timeline of the page.

gunicorn's master runs `python -m desafio2.startup` once per container start
(gunicorn.conf.py, when_ready). It runs as a separate process rather than a
thread of the master: the master forks workers, and a fork while another thread
is inside libpq or holds a lock can leave the worker deadlocked.

The database may not answer yet (a restart of both containers, a slow volume):
the recorder retries with a growing pause until START_RECORD_DEADLINE_SECONDS,
then gives up with one line on stderr. A missing start record costs a line of
the timeline; it must never cost the app, so nothing here can stop gunicorn.
"""

import socket
import sys
import time

import psycopg2

from desafio2 import db, settings

ACAO = "app_iniciada"

FIRST_PAUSE_SECONDS = 0.5
MAX_PAUSE_SECONDS = 5.0
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


def record_start(settings: dict, container: str) -> int:
    """Writes the start record; returns its id in logs."""
    conn = psycopg2.connect(**settings)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(
                RECORD_START, {"acao": ACAO, "prefix": MENSAGEM_PREFIX, "container": container}
            )
            return cursor.fetchone()[0]
    finally:
        conn.close()


def record_start_with_retry(
    settings: dict, container: str, deadline_seconds: float, log=print
) -> bool:
    started = time.monotonic()
    pause = FIRST_PAUSE_SECONDS
    attempt = 0
    while True:
        attempt += 1
        try:
            log_id = record_start(settings, container)
        except psycopg2.Error as error:
            elapsed = time.monotonic() - started
            reason = (
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            )
            if elapsed + pause > deadline_seconds:
                log(
                    f"start record: gave up after {attempt} attempts in {elapsed:.0f}s "
                    f"(the timeline will miss this start): {reason}"
                )
                return False
            time.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_SECONDS)
            continue
        log(f"start record: container {container} recorded as logs.id={log_id}")
        return True


def main() -> int:
    deadline = settings.start_up()["start_record_deadline"]
    try:
        connect_with = db.connection_settings()
    except OSError as error:  # an unreadable password file
        print(f"start record: cannot read the database settings: {error}", file=sys.stderr)
        return 1

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    return 0 if record_start_with_retry(connect_with, container_id(), deadline, log) else 1


if __name__ == "__main__":
    sys.exit(main())
