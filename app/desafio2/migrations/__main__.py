"""The migrator's program, `python -m desafio2.migrations` (the container db-migracoes):
its settings, its log lines, its exit status. What it does is the package's
(__init__.py); docs/schema.md lists its settings.
"""

import sys

import psycopg2

from desafio2 import db, settings
from desafio2.migrations import API_ROLE, MigrationError, backups, load, migrate

LOG_PREFIX = "migrations: "
APPLICATION_NAME = "desafio2-migrations"  # what pg_stat_activity shows for its sessions


def connect(connect_with: dict, deadline_seconds: float, log=print):
    """A connection in autocommit, once the database answers (it may still be starting)."""
    try:
        conn = db.connect_when_ready(
            connect_with,
            deadline_seconds,
            waiting=lambda why: log(f"waiting for the database: {why}"),
        )
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

    try:
        config = settings.read()
        api_password = api_password_of(config)
        migrations = load(config.migrations_dir)
        conn = connect(
            db.connection_settings(config.database, APPLICATION_NAME),
            config.migrations_deadline,
            log,
        )
        try:
            migrate(
                conn,
                migrations,
                log,
                api_password=api_password,
                backups_to=backups.Target(config.backup_dir),
            )
        finally:
            conn.close()
    # ValueError: a setting that is not a number.
    except (MigrationError, OSError, ValueError, psycopg2.Error) as error:
        log(f"FAILED, the app does not start. {error}")
        return 1
    return 0


def api_password_of(config: settings.Settings) -> str:
    """The API role's password, from the file API_DATABASE_PASSWORD_FILE names."""
    path = config.api_password_file
    if not path:
        raise MigrationError(
            "API_DATABASE_PASSWORD_FILE is not set: it names the file holding the password "
            f"the migrator gives the role {API_ROLE}; nothing was changed"
        )
    password = settings.read_password(path)
    if not password:
        raise MigrationError(f"{path} is empty: the role {API_ROLE} needs a password")
    return password


if __name__ == "__main__":
    sys.exit(main())
