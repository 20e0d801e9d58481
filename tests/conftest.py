"""Fixtures shared by every suite: a real PostgreSQL server for the whole session."""

import os

import pytest

from tests.support.postgres_server import PostgresServer, find_bindir


def require(condition: bool, reason: str) -> None:
    """Skip when a real part is missing, except under CI, where it must be there."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: this must be available)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server():
    bindir = find_bindir()
    require(bindir is not None,
            "PostgreSQL server binaries not found (install postgresql-15 or set PG_BINDIR)")
    server = PostgresServer(bindir).start()
    server.template = server.load_template()
    yield server
    server.stop()
