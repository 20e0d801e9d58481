"""One container of the postgres image under test, reached only through a port
published on 127.0.0.1, for the contract tests in this folder."""

import contextlib
import io
import secrets
import tarfile
import time

import docker
import psycopg2

from infra.common import DB_PORT, PASSWORD_FILE, PGDATA
from infra.settings import StackConfig
from testing.live import wait_until

# What the stack gives the image (infra/stack.py), so that the tests see what it sees.
USER = StackConfig.db_user
DATABASE = StackConfig.db_name
INITDB_DIR = "/docker-entrypoint-initdb.d"
# Starting an empty volume runs initdb and the init scripts first.
START_TIMEOUT = 120


def tar_of(files: dict[str, tuple[str, int]]) -> bytes:
    """A tar of absolute path -> (text, mode), for put_archive at "/"."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, (text, mode) in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(path.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), mode, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class PostgresContainer:
    """The image started as the stack starts it: POSTGRES_USER, POSTGRES_DB and the
    password in a file named by POSTGRES_PASSWORD_FILE, the data on a named volume,
    init scripts copied into /docker-entrypoint-initdb.d before the first start."""

    def __init__(
        self,
        engine: docker.DockerClient,
        image: str,
        name: str,
        volume: str,
        init_scripts: dict[str, tuple[str, int]],
        environment: dict[str, str],
        password: str | None = None,
    ):
        # A volume that already holds a cluster keeps the password it was made with.
        self.password = password or secrets.token_urlsafe(24)
        self.container = engine.containers.create(
            image,
            name=name,
            environment={
                "POSTGRES_USER": USER,
                "POSTGRES_DB": DATABASE,
                "POSTGRES_PASSWORD_FILE": PASSWORD_FILE,
                **environment,
            },
            volumes={volume: {"bind": PGDATA, "mode": "rw"}},
            ports={f"{DB_PORT}/tcp": ("127.0.0.1", None)},
        )
        files = {f"{INITDB_DIR}/{script}": body for script, body in init_scripts.items()}
        files[PASSWORD_FILE] = (self.password, 0o644)
        self.container.put_archive("/", tar_of(files))

    def start(self) -> "PostgresContainer":
        self.container.start()
        return self

    def connect(self, password: str | None = None):
        """A connection over TCP, through the published port; raises psycopg2.OperationalError."""
        self.container.reload()
        port = int(
            self.container.attrs["NetworkSettings"]["Ports"][f"{DB_PORT}/tcp"][0]["HostPort"]
        )
        connection = psycopg2.connect(
            host="127.0.0.1",
            port=port,
            user=USER,
            dbname=DATABASE,
            password=self.password if password is None else password,
            connect_timeout=3,
        )
        connection.autocommit = True
        return connection

    def try_connect(self):
        try:
            return self.connect()
        except psycopg2.OperationalError:
            return None

    def first_connection(self):
        """The first connection over TCP that succeeds, open; the caller closes it."""
        return wait_until(self.try_connect, START_TIMEOUT, f"{self.container.name} to accept TCP")

    def wait_ready(self) -> None:
        self.first_connection().close()

    def query(self, sql: str) -> list[tuple]:
        """The rows of sql, or [] for a statement that returns none."""
        with contextlib.closing(self.connect()) as connection, connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def logs(self) -> str:
        return self.container.logs().decode("utf-8", errors="replace")

    def wait_for_log(self, text: str) -> None:
        wait_until(lambda: text in self.logs(), START_TIMEOUT, f"{text!r} in the log")

    def run(self, *command: str) -> tuple[int, str]:
        result = self.container.exec_run(list(command))
        return result.exit_code, result.output.decode("utf-8", errors="replace")
