"""Before the app serves: wait until the migrator has applied every migration this
image knows.

The app no longer migrates: it connects as the role `api`, which may not change the
schema, and the stack runs the migrations once, in a container of its own (the
migrator, `db-migracoes`; migrations.py). gunicorn's master runs
`python -m desafio2.migrations.wait` before it listens (gunicorn.conf.py, on_starting):
until the database is at the version of the newest migration in MIGRATIONS_DIR, no
request is served. `api` may not read schema_migrations; 0005 gives it
versao_do_esquema(), which reads the applied version with the owner's rights.

The migrator may still be running, or the database still starting: this tries
again with a growing pause (db.connect_when_ready) until
SCHEMA_WAIT_DEADLINE_SECONDS, then exits 1 with one line saying what it waited for
and what it found, and gunicorn does not start.
"""

import sys

import psycopg2
import psycopg2.errors

from desafio2 import db, settings
from desafio2.migrations import MigrationError, load

MIGRATOR = "the migrator (db-migracoes)"
LOG_PREFIX = "schema: "
APPLIED_VERSION = "SELECT versao_do_esquema()"


def found_version(conn) -> int | str:
    """The version the database is at, or what stood in the way of reading it."""
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(APPLIED_VERSION)
            return cursor.fetchone()[0] or 0
    except psycopg2.errors.UndefinedFunction:
        return "no versao_do_esquema() yet, so older than 0005"
    except psycopg2.Error as error:
        return (error.diag.message_primary or str(error)).strip()


def wait(connect_with: dict, expected: int, deadline_seconds: float) -> int:
    """The version found once it is `expected` or newer; db.NotReady at the deadline."""
    found: list = []

    def ready(conn) -> str | None:
        version = found_version(conn)
        found.append(version)
        if isinstance(version, int) and version >= expected:
            return None
        return f"version {version}" if isinstance(version, int) else version

    conn = db.connect_when_ready(connect_with, deadline_seconds, ready=ready)
    conn.close()
    return found[-1]


def main() -> int:
    def log(line: str) -> None:
        print(f"{LOG_PREFIX}{line}", file=sys.stderr, flush=True)

    try:
        config = settings.read()
    except (OSError, ValueError) as error:  # an unreadable password file, a bad number
        log(f"the app does not start: its settings cannot be read: {error}")
        return 1
    try:
        expected = load(config.migrations_dir)[-1].version
        version = wait(
            db.connection_settings(config.database), expected, config.schema_wait_deadline
        )
    except (MigrationError, IndexError, OSError) as error:
        log(f"the app does not start: this image's migrations cannot be read: {error}")
        return 1
    except db.NotReady as error:
        log(
            f"the app does not start: waited {error.elapsed:.0f}s for {MIGRATOR} to apply "
            f"migration {expected}; found: {error.reason}"
        )
        return 1
    log(f"version {version} in place (this app needs {expected}), serving")
    return 0


if __name__ == "__main__":
    sys.exit(main())
