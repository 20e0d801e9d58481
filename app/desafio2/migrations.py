"""Brings the database to the schema of db/migrations/, at each start of the app.

gunicorn's master runs `python -m desafio2.migrations` before it listens (gunicorn.conf.py,
on_starting): no request is served until the schema is current, and a failure
stops the start. What runs, in order:

1. Wait for the database, then take a PostgreSQL advisory lock: a second
   container or process starting at the same time waits here, and then finds
   nothing left to do. The lock is the session's, so a killed runner never
   leaves it behind.
2. Read which migrations the database has (schema_migrations). A database from
   before this table is recognised by its shape (`baseline`): the original
   project's volumes are at 0001, this stack's earlier ones at 0003 or 0004.
3. If migrations are pending and the database already has tables, write a
   backup first (backups.py); no backup, no migration.
4. Apply every pending migration, and record each, in ONE transaction: a failure
   anywhere leaves the database exactly as it was, never half-migrated.

docs/schema.md says how to add a migration and resolve a failure.
"""

import contextlib
import dataclasses
import re
import sys
from pathlib import Path

import psycopg2

from desafio2 import backups, db, settings

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "db" / "migrations"
# Any constant unique to this app; pg_advisory_lock takes a bigint.
LOCK_KEY = 2_061_174_401
LOG_PREFIX = "migrations: "
_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")

TRACKING_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version    INTEGER     PRIMARY KEY,
        name       TEXT        NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        -- true: found already in place when migrations started being recorded
        baseline   BOOLEAN     NOT NULL
    )
"""
APPLIED = "SELECT version FROM schema_migrations ORDER BY version"
RECORD = "INSERT INTO schema_migrations (version, name, baseline) VALUES (%s, %s, %s)"
# The shapes the schema had before migrations were recorded, newest first.
SHAPE = """
    SELECT to_regclass('schema_migrations') IS NOT NULL,
           to_regclass('usuarios') IS NOT NULL,
           to_regclass('contagens') IS NOT NULL,
           EXISTS (SELECT FROM pg_index
                   WHERE indexrelid = to_regclass('usuarios_email_key') AND indexprs IS NOT NULL)
"""


@dataclasses.dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


class MigrationError(Exception):
    """The database was not migrated; the message says why and what to do."""


def load(directory: Path = DEFAULT_DIRECTORY) -> list[Migration]:
    """The migrations of a directory, in order: NNNN_name.sql, numbered 1, 2, 3... with no gap."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.fullmatch(path.name)
        if not match:
            raise MigrationError(f"{path}: a migration is named NNNN_lower_case_name.sql")
        migrations.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    numbers = [m.version for m in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise MigrationError(f"{directory}: migrations must be numbered 1, 2, 3... ({numbers})")
    return migrations


def baseline(shape: tuple[bool, bool, bool]) -> int:
    """The version an unrecorded database is at, from (usuarios, contagens, lower(email) index)."""
    has_usuarios, has_contagens, email_index_ignores_case = shape
    if not has_usuarios:
        return 0  # empty: 0001 creates everything, seed rows included
    if has_contagens:
        return 4  # this stack since its counters
    if email_index_ignores_case:
        return 3  # this stack's first schema
    return 1  # the original docker compose project


def describe(error: psycopg2.Error) -> str:
    """PostgreSQL's message with its detail (which rows) and hint (what to do)."""
    diagnostic = error.diag
    lines = [(diagnostic.message_primary or str(error)).strip()]
    if diagnostic.message_detail:
        lines.append(f"detail: {diagnostic.message_detail}")
    if diagnostic.message_hint:
        lines.append(f"to resolve: {diagnostic.message_hint}")
    return "\n  ".join(lines)


def migrate(conn, migrations: list[Migration], log=print) -> list[str]:
    """Applies what the database lacks; returns the labels applied. conn must be in autocommit."""
    with conn.cursor() as cursor:
        # A migration may rewrite a large table: no statement timeout here.
        cursor.execute("SET statement_timeout = 0")
        cursor.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            return _migrate_locked(cursor, migrations, log)
        finally:
            with contextlib.suppress(psycopg2.Error):  # a lost connection released it already
                cursor.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def _migrate_locked(cursor, migrations, log) -> list[str]:
    cursor.execute(SHAPE)
    recorded, *shape = cursor.fetchone()
    if recorded:
        cursor.execute(APPLIED)
        applied = {version for (version,) in cursor.fetchall()}
        found = None
    else:
        found = baseline(tuple(shape))
        applied = set(range(1, found + 1))
    unknown = sorted(applied - {m.version for m in migrations})
    if unknown:
        raise MigrationError(
            f"the database has migration(s) {unknown} that this app does not know: "
            "it was migrated by a newer version of the app; nothing was changed"
        )
    pending = [m for m in migrations if m.version not in applied]
    if not pending and recorded:
        log(f"the schema is current (version {len(migrations)})")
        return []
    if pending and shape[0]:
        try:
            log(backups.write(cursor, before=pending[0].label))
        except psycopg2.Error as error:
            raise MigrationError(
                "no backup could be written, so no migration was applied and the database is "
                f"as it was:\n  {describe(error)}"
            ) from None

    labels = [m.label for m in pending]
    step = "recording the migrations already in place"
    cursor.execute("BEGIN")
    try:
        cursor.execute(TRACKING_TABLE)
        for migration in migrations[: found or 0]:
            cursor.execute(RECORD, (migration.version, migration.name, True))
        for migration in pending:
            step = f"migration {migration.label}"
            cursor.execute(migration.sql)
            cursor.execute(RECORD, (migration.version, migration.name, False))
        step = "the commit"
        cursor.execute("COMMIT")
    except psycopg2.OperationalError as error:
        if step == "the commit":
            # The COMMIT was sent and its answer lost: only the database knows.
            raise MigrationError(
                f"the connection was lost while committing {labels}: "
                "the next start finds out whether they were applied"
            ) from error
        raise MigrationError(
            f"the connection was lost during {step}; the database rolled back all of {labels}"
        ) from error
    except psycopg2.Error as error:
        cursor.execute("ROLLBACK")
        raise MigrationError(
            f"{step} failed, so none of {labels} was applied and the database is exactly "
            f"as it was:\n  {describe(error)}"
        ) from None
    if found:
        log(f"found a database at version {found} (recorded as its baseline)")
    for label in labels:
        log(f"applied {label}")
    return labels


def connect(connect_with: dict, deadline_seconds: float):
    """A connection in autocommit, once the database answers (it may still be starting)."""
    try:
        conn = db.connect_when_ready(connect_with, deadline_seconds)
    except db.NotReady as error:
        raise MigrationError(
            f"the database did not answer within {deadline_seconds:.0f}s: {error.reason}"
        ) from None
    conn.autocommit = True
    return conn


def main() -> int:
    def log(message: str) -> None:
        # Every line prefixed, so that `make up` can pick this start's lines out of the
        # container's log (scripts/migration-report.sh).
        for line in message.splitlines():
            print(f"{LOG_PREFIX}{line}", file=sys.stderr, flush=True)

    start_up = settings.start_up()
    directory = Path(start_up["migrations_dir"] or DEFAULT_DIRECTORY)
    deadline = start_up["migrations_deadline"]
    try:
        migrations = load(directory)
        conn = connect(db.connection_settings(), deadline)
        try:
            migrate(conn, migrations, log)
        finally:
            conn.close()
    except (MigrationError, OSError, psycopg2.Error) as error:
        log(f"FAILED, the app does not start. {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
