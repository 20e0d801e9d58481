"""Fixtures shared by every suite: a real PostgreSQL server for the whole session, and an
app on a fresh database copied from one built by db/migrations for each test that wants one."""

import itertools

import pytest

from desafio2 import create_app
from testing.availability import require
from testing.live import chosen
from testing.postgres_server import PostgresServer, autocommit_cursor, find_bindir


def pytest_report_header(config):
    # Every run says which engine realizes the e2e stacks (testing/live/selection.py),
    # here rather than in the e2e plugin: a suite's conftest registers that plugin only
    # once pytest has printed its header.
    return chosen().header()


@pytest.fixture(scope="session")
def postgres_server():
    bindir = find_bindir()
    require(
        bindir is not None,
        "PostgreSQL server binaries not found (install postgresql-15 or set PG_BINDIR)",
    )
    server = PostgresServer(bindir).start()
    server.template = server.load_template()
    yield server
    server.stop()


_counter = itertools.count()


@pytest.fixture
def database(postgres_server):
    name = f"test_{next(_counter)}"
    postgres_server.create_database(name, postgres_server.template)
    yield name
    postgres_server.drop_database(name)


@pytest.fixture
def app(postgres_server, database):
    # As the role api, as the stack's app connects: a grant the API lacks fails its test.
    app = create_app({"TESTING": True, "DATABASE": postgres_server.app_dsn(database)})
    yield app
    app.extensions["db_pool"].close()


@pytest.fixture
def client(app):
    return app.test_client()


class Rows:
    """Reads the database behind the app directly, as its owner, to check what was (not)
    written."""

    def __init__(self, dsn: dict):
        self._dsn = dsn

    def connection(self):
        """An autocommit cursor on the app's database."""
        return autocommit_cursor(self._dsn)

    def query(self, sql: str, params=()) -> list[tuple]:
        with self.connection() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def counts(self) -> tuple[int, int]:
        return self.query("SELECT (SELECT count(*) FROM usuarios), (SELECT count(*) FROM logs)")[0]


@pytest.fixture
def rows(postgres_server, database):
    return Rows(postgres_server.dsn(database))
