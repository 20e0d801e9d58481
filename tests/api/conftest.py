"""Each API test gets its own database, copied from one built from db/init.sql."""

import itertools

import psycopg2
import pytest

from api import create_app

_counter = itertools.count()


@pytest.fixture
def database(postgres_server):
    name = f"test_{next(_counter)}"
    postgres_server.create_database(name, postgres_server.template)
    yield name
    postgres_server.drop_database(name)


@pytest.fixture
def app(postgres_server, database):
    app = create_app({"TESTING": True, "DATABASE": postgres_server.dsn(database)})
    yield app
    app.extensions["db_pool"].close()


@pytest.fixture
def client(app):
    return app.test_client()


class Rows:
    """Reads the database behind the app directly, to check what was (not) written."""

    def __init__(self, dsn: dict):
        self._dsn = dsn

    def query(self, sql: str, params=()) -> list[tuple]:
        conn = psycopg2.connect(**self._dsn)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            conn.close()

    def counts(self) -> tuple[int, int]:
        return self.query("SELECT (SELECT count(*) FROM usuarios), (SELECT count(*) FROM logs)")[0]


@pytest.fixture
def rows(postgres_server, database):
    return Rows(postgres_server.dsn(database))
