"""Brings the database to the schema of db/migrations/: the migrator, a one-shot program.

The stack runs `python -m desafio2.migrations` (__main__.py) in a container of its own
(`db-migracoes` on one host, a service on a swarm) with the schema owner's
credentials; it migrates, sets the API role's password and exits. The app's
gunicorn never migrates: it connects as the role `api`, which may not change the
schema, and waits for this program's work (wait.py). What runs, in order:

1. Wait for the database, then take a PostgreSQL advisory lock: a second
   run at the same time waits here, and then finds nothing left to do. The lock
   is the session's, so a killed runner never leaves it behind.
2. Read which migrations the database has (schema_migrations). A database from
   before this table is recognised by its shape (`baseline`): the original
   project's volumes are at 0001, this stack's earlier ones at 0003 or 0004.
3. If migrations are pending and the database already has tables, write a
   backup first (backups.py, pg_dump into BACKUP_DIR); no backup, no migration.
4. Apply every pending migration, record each, and give the role `api` LOGIN and
   its password (also when nothing is pending), in ONE transaction: a failure
   anywhere leaves the database exactly as it was, the password included.

docs/schema.md says how to add a migration and resolve a failure.
"""

import contextlib
import dataclasses
import re
from pathlib import Path

import psycopg2
from psycopg2.extensions import encrypt_password

from desafio2 import settings
from desafio2.migrations import backups

DEFAULT_DIRECTORY = settings.DEFAULT_MIGRATIONS_DIR
# Any constant unique to this app; pg_advisory_lock takes a bigint.
LOCK_KEY = 2_061_174_401
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
API_ROLE = "api"  # created by 0005_papel_da_api.sql
SET_API_PASSWORD = f"ALTER ROLE {API_ROLE} LOGIN PASSWORD %s"
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


def migrate(
    conn, migrations: list[Migration], log=print, *, api_password: str, backups_to: backups.Target
) -> list[str]:
    """Applies what the database lacks and sets the API role's password; returns the
    labels applied. conn must be in autocommit, as the schema's owner."""
    # The verifier, not the password, goes to the server: a statement in its log (or
    # in pg_stat_activity) never shows the password itself.
    verifier = encrypt_password(api_password, API_ROLE, conn, "scram-sha-256")
    with conn.cursor() as cursor:
        # A migration may rewrite a large table: no statement timeout here.
        cursor.execute("SET statement_timeout = 0")
        cursor.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            return _migrate_locked(cursor, migrations, log, verifier, backups_to)
        finally:
            with contextlib.suppress(psycopg2.Error):  # a lost connection released it already
                cursor.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def _migrate_locked(cursor, migrations, log, verifier, backups_to) -> list[str]:
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
    if pending and shape[0]:
        try:
            log(backups.write(cursor, pending[0].label, backups_to))
        except (backups.BackupError, psycopg2.Error) as error:
            reason = describe(error) if isinstance(error, psycopg2.Error) else str(error)
            raise MigrationError(
                "no backup could be written, so no migration was applied and the database is "
                f"as it was:\n  {reason}"
            ) from None

    labels = [m.label for m in pending]
    _apply(cursor, migrations[: found or 0], pending, verifier)
    if found:
        log(f"found a database at version {found} (recorded as its baseline)")
    for label in labels:
        log(f"applied {label}")
    if not pending:
        log(f"the schema is current (version {len(migrations)})")
    log(f"role {API_ROLE}: may log in, with the password of API_DATABASE_PASSWORD_FILE")
    return labels


def _apply(cursor, baselined, pending, verifier) -> None:
    """One transaction: the baseline's records, the pending migrations, the password."""
    labels = [m.label for m in pending]
    step = "recording the migrations already in place"
    cursor.execute("BEGIN")
    try:
        cursor.execute(TRACKING_TABLE)
        for migration in baselined:
            cursor.execute(RECORD, (migration.version, migration.name, True))
        for migration in pending:
            step = f"migration {migration.label}"
            cursor.execute(migration.sql)
            cursor.execute(RECORD, (migration.version, migration.name, False))
        step = f"setting the password of role {API_ROLE}"
        cursor.execute(SET_API_PASSWORD, (verifier,))
    except psycopg2.OperationalError as error:
        raise MigrationError(
            f"the connection was lost during {step}; the database rolled back all of {labels}"
        ) from error
    except psycopg2.Error as error:
        cursor.execute("ROLLBACK")
        what = f"none of {labels} was applied and " if labels else ""
        raise MigrationError(
            f"{step} failed, so {what}the database is exactly as it was:\n  {describe(error)}"
        ) from None
    try:
        cursor.execute("COMMIT")
    except psycopg2.OperationalError as error:
        # The COMMIT was sent and its answer lost: only the database knows.
        raise MigrationError(
            f"the connection was lost while committing {labels}: "
            "the next run finds out whether they were applied"
        ) from error
