"""A throwaway PostgreSQL server for tests and benchmarks, as pytest-postgresql does it:
initdb into a temporary directory, listen on a free port of 127.0.0.1, stop and
delete everything afterwards. Needs PostgreSQL's server binaries (Debian:
postgresql-15); PG_BINDIR overrides where they are looked for.
"""

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_DIR = REPO_ROOT / "app"


def find_bindir() -> Path | None:
    candidates = [os.environ.get("PG_BINDIR", "")]
    if shutil.which("pg_config"):
        candidates.append(
            subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True).stdout.strip()
        )
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


@contextlib.contextmanager
def autocommit_cursor(dsn: dict):
    """An autocommit cursor on `dsn`, its connection closed afterwards."""
    conn = psycopg2.connect(**dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


def libpq_env(dsn: dict) -> dict[str, str]:
    """The environment that points libpq (and so the app) at `dsn`."""
    return {
        "PGHOST": dsn["host"],
        "PGPORT": str(dsn["port"]),
        "PGUSER": dsn["user"],
        "PGPASSWORD": dsn["password"],
        "PGDATABASE": dsn["dbname"],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One server; `create_database` makes databases from db/migrations through a template.

    Two roles, as in the stack: `user`, the superuser initdb makes (the postgres image's
    POSTGRES_USER), owns the schema and runs the migrator; the app connects as
    `api_user` (`app_dsn`), which the migrations create and the migrator gives its
    password, so a grant the API lacks fails the API's tests."""

    user = "usuario"
    password = "test-password-not-secret"
    api_user = "api"
    api_password = "test-api-password-not-secret"

    def __init__(self, bindir: Path, settings: dict[str, str] | None = None):
        self.bindir = bindir
        self.port = free_port()
        self.settings = settings or {}
        self.root = Path(tempfile.mkdtemp(prefix="desafio2-pg-"))
        self.datadir = self.root / "data"
        # Where the migrator writes its backups (BACKUP_DIR), as the stack's named volume.
        self.backup_dir = self.root / "backups"
        self.api_password_file = self.root / "api_password"
        self._run_as = None
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root; the postgres account of the package does.
            self._run_as = pwd.getpwnam("postgres")
            os.chown(self.root, self._run_as.pw_uid, self._run_as.pw_gid)

    def _cmd(self, *args: str) -> None:
        subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            timeout=120,
            user=self._run_as.pw_uid if self._run_as else None,
            group=self._run_as.pw_gid if self._run_as else None,
        )

    def start(self) -> "PostgresServer":
        self.api_password_file.write_text(self.api_password + "\n")
        self.api_password_file.chmod(0o600)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.password)
        if self._run_as:
            os.chown(pwfile, self._run_as.pw_uid, self._run_as.pw_gid)
        self._cmd(
            "initdb",
            "-D",
            str(self.datadir),
            "-U",
            self.user,
            "--pwfile",
            str(pwfile),
            "-E",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "--auth-host",
            "scram-sha-256",
            "--auth-local",
            "trust",
        )
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
            **self.settings,
        }
        self._flags = " ".join(f"-c {key}={value}" for key, value in options.items())
        self._start()
        return self

    def _start(self) -> None:
        # -l matters: without it the server inherits our pipes and run() never returns.
        log = str(self.root / "server.log")
        self._cmd("pg_ctl", "start", "-w", "-D", str(self.datadir), "-l", log, "-o", self._flags)

    def restart(self) -> None:
        """Stop and start again: every connection open before is dead after."""
        self._cmd("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self.datadir))
        self._start()

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._cmd("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self.datadir))
        shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, dbname: str) -> dict:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": dbname,
        }

    def app_dsn(self, dbname: str) -> dict:
        """What the app connects with: the role api, which holds the rights of 0005."""
        return {**self.dsn(dbname), "user": self.api_user, "password": self.api_password}

    def migrator_env(self, dbname: str, **extra: str) -> dict[str, str]:
        """The environment of `python -m desafio2.migrations`, as the stack's migrator
        container has it: the owner's libpq settings, the api role's password file,
        the backup directory."""
        return {
            **os.environ,
            **libpq_env(self.dsn(dbname)),
            "API_DATABASE_PASSWORD_FILE": str(self.api_password_file),
            "BACKUP_DIR": str(self.backup_dir),
            **extra,
        }

    def run_migrator(self, dbname: str, **extra: str) -> subprocess.CompletedProcess:
        """The migrator's run on database `dbname`, as its container runs it."""
        return subprocess.run(
            [sys.executable, "-m", "desafio2.migrations"],
            cwd=APP_DIR,
            env=self.migrator_env(dbname, **extra),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def connect(self, dbname: str = "postgres"):
        return autocommit_cursor(self.dsn(dbname))

    def load_template(self, name: str = "aplicacao_template") -> str:
        """A database built as the stack's migrator builds an empty one (every migration
        of db/migrations, the seed rows included, by `python -m desafio2.migrations` as
        the owner, which also gives the role api its password), to copy from; returns
        its name."""
        self.create_empty_database(name)
        migrated = self.run_migrator(name)
        if migrated.returncode != 0:
            raise RuntimeError(f"the migrations of {name} failed: {migrated.stderr}")
        return name

    def create_empty_database(self, name: str) -> str:
        with self.connect() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        return name

    def create_database(self, name: str, template: str) -> None:
        with self.connect() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def drop_database(self, name: str) -> None:
        with self.connect() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
