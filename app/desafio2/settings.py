"""Every setting the app takes from its environment, read here and nowhere else.

The database: libpq's own variables (PGHOST, PGPORT, PGUSER, PGDATABASE,
PGPASSWORD, ...), which psycopg2 reads itself; the stack passes the password in
the file named by DATABASE_PASSWORD_FILE, so it never sits in the container's
environment (the app's: the role api's; the migrator's: the owner's).
VOLUME_NAME is what the page and /status show. gunicorn.conf.py takes PORT,
WEB_CONCURRENCY, GUNICORN_THREADS and ACCESS_LOG from `server()` (PORT reaches
healthcheck.py too); the start-up steps (the migrator, the schema wait, the start
record) take theirs from `start_up()`.

Any of them may instead be a NAME=value line of the file SETTINGS_FILE names,
which is how the stack gives them on a swarm (infra/swarm.py says why).
"""

import os
from pathlib import Path

DEFAULT_THREADS = 2
# How long a start-up step keeps trying to reach a database that is still starting.
DEFAULT_START_UP_DEADLINE_SECONDS = 120
# The migrator's backups: the app image makes it, owned by its user, for a named volume.
DEFAULT_BACKUP_DIR = "/srv/backups"


def apply_settings_file(environ=os.environ) -> None:
    """Each NAME=value line of the file SETTINGS_FILE names joins the environment,
    unless the environment already has NAME: libpq then reads PGHOST and the rest
    itself, and the processes started from here inherit them, as on one host."""
    path = environ.get("SETTINGS_FILE")
    if not path:
        return
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            name, equals, value = line.partition("=")
            if not equals or not name:
                raise ValueError(f"{path}:{number}: not a NAME=value line")
            environ.setdefault(name, value)


apply_settings_file()


def database(environ=os.environ) -> dict:
    """psycopg2.connect() arguments beyond what libpq reads from the environment itself."""
    password_file = environ.get("DATABASE_PASSWORD_FILE")
    return {"password": read_password(password_file)} if password_file else {}


def read_password(path: str) -> str:
    """A password file's content, without the line end an editor may add."""
    with open(path, encoding="utf-8") as f:
        return f.read().rstrip("\r\n")


def _threads(environ) -> int:
    return int(environ.get("GUNICORN_THREADS", DEFAULT_THREADS))


def from_environ(environ=os.environ) -> dict:
    """The app's config keys (create_app)."""
    return {
        "DATABASE": database(environ),
        # Each of a worker's threads may hold one pooled connection (db.py).
        "DATABASE_POOL_SIZE": _threads(environ),
        "VOLUME_NAME": environ.get("VOLUME_NAME"),
    }


def server(environ=os.environ) -> dict:
    """gunicorn's settings that the stack chooses (gunicorn.conf.py)."""
    return {
        "bind": f"0.0.0.0:{environ.get('PORT', '5000')}",
        "workers": int(environ.get("WEB_CONCURRENCY", "2")),
        "threads": _threads(environ),
        "accesslog": environ.get("ACCESS_LOG") or None,
    }


def start_up(environ=os.environ) -> dict:
    """What the start-up steps take: where the migrations are (None: the repository's
    db/migrations), how long each step waits for the database; the migrator's
    backup directory and the file of the API role's password."""
    return {
        "migrations_dir": environ.get("MIGRATIONS_DIR"),
        "backup_dir": Path(environ.get("BACKUP_DIR") or DEFAULT_BACKUP_DIR),
        "api_password_file": environ.get("API_DATABASE_PASSWORD_FILE"),
        "schema_wait_deadline": float(
            environ.get("SCHEMA_WAIT_DEADLINE_SECONDS", DEFAULT_START_UP_DEADLINE_SECONDS)
        ),
        "migrations_deadline": float(
            environ.get("MIGRATIONS_DEADLINE_SECONDS", DEFAULT_START_UP_DEADLINE_SECONDS)
        ),
        "start_record_deadline": float(
            environ.get("START_RECORD_DEADLINE_SECONDS", DEFAULT_START_UP_DEADLINE_SECONDS)
        ),
    }
