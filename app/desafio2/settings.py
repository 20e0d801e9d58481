"""Every setting the app takes from its environment, read here and nowhere else, once
per process, into one typed `Settings`.

The database: libpq's own variables (PGHOST, PGPORT, PGUSER, PGDATABASE,
PGPASSWORD, ...), which psycopg2 reads itself; the stack passes the password in
the file named by DATABASE_PASSWORD_FILE, so it never sits in the container's
environment (the app's: the role api's; the migrator's: the owner's).
VOLUME_NAME is what the page and /status show. gunicorn.conf.py takes PORT,
WEB_CONCURRENCY, GUNICORN_THREADS and ACCESS_LOG (PORT reaches healthcheck.py too,
which reads it itself: it runs without this package); the start-up steps (the
migrator, the schema wait, the start record) take the rest.

Any of them may instead be a NAME=value line of the file SETTINGS_FILE names,
which is how the stack gives them on a swarm (infra/swarm.py says why).
"""

import dataclasses
import os
from pathlib import Path

# The repository's migrations, for tests and benchmarks; the stack sets MIGRATIONS_DIR.
DEFAULT_MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "db" / "migrations"
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


@dataclasses.dataclass(frozen=True)
class Settings:
    # psycopg2.connect() arguments beyond what libpq reads from the environment itself.
    database: dict
    volume_name: str | None
    # gunicorn's, which the stack chooses.
    port: int
    workers: int
    # Each of a worker's threads may hold one pooled connection (db.py): the pool's size.
    threads: int
    access_log: str | None
    # The start-up steps': where the migrations are, how long each waits for the database.
    migrations_dir: Path
    migrations_deadline: float
    start_record_deadline: float
    schema_wait_deadline: float
    # The migrator's: where its backups go, the file of the password it gives the role api.
    backup_dir: Path
    api_password_file: str | None

    @property
    def bind(self) -> str:
        return f"0.0.0.0:{self.port}"


def read(environ=os.environ) -> Settings:
    """The settings of this process; call it once, where the process starts."""

    def seconds(name: str) -> float:
        return float(environ.get(name, DEFAULT_START_UP_DEADLINE_SECONDS))

    password_file = environ.get("DATABASE_PASSWORD_FILE")
    return Settings(
        database={"password": read_password(password_file)} if password_file else {},
        volume_name=environ.get("VOLUME_NAME"),
        port=int(environ.get("PORT", "5000")),
        workers=int(environ.get("WEB_CONCURRENCY", "2")),
        threads=int(environ.get("GUNICORN_THREADS", DEFAULT_THREADS)),
        access_log=environ.get("ACCESS_LOG") or None,
        migrations_dir=Path(environ.get("MIGRATIONS_DIR") or DEFAULT_MIGRATIONS_DIR),
        migrations_deadline=seconds("MIGRATIONS_DEADLINE_SECONDS"),
        start_record_deadline=seconds("START_RECORD_DEADLINE_SECONDS"),
        schema_wait_deadline=seconds("SCHEMA_WAIT_DEADLINE_SECONDS"),
        backup_dir=Path(environ.get("BACKUP_DIR") or DEFAULT_BACKUP_DIR),
        api_password_file=environ.get("API_DATABASE_PASSWORD_FILE") or None,
    )


def read_password(path: str) -> str:
    """A password file's content, without the line end an editor may add."""
    with open(path, encoding="utf-8") as f:
        return f.read().rstrip("\r\n")
