"""GET /status: health of the app and its database, and what the database holds."""

import pytest

from desafio2 import __version__, create_app
from testing.postgres_server import PostgresServer, free_port


def test_healthy_status_reports_counts_volume_and_version(app, client):
    app.config["VOLUME_NAME"] = "dados_postgres"  # settings.py reads VOLUME_NAME once, at start
    response = client.get("/status")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "usuarios": 3,
        "logs": 2,
        "volume": "dados_postgres",
        "version": __version__,
    }


def test_status_never_shows_a_credential(client, postgres_server):
    assert postgres_server.password not in client.get("/status").get_data(as_text=True)
    assert postgres_server.api_password not in client.get("/status").get_data(as_text=True)


@pytest.fixture
def app_without_database():
    unreachable = {
        "host": "127.0.0.1",
        "port": free_port(),
        "user": "usuario",
        "password": "x",
        "dbname": "aplicacao",
    }
    app = create_app({"TESTING": True, "DATABASE": unreachable})
    return app.test_client()


def test_status_is_503_when_the_database_does_not_answer(app_without_database):
    response = app_without_database.get("/status")
    assert (response.status_code, response.get_json()["database"]) == (503, "unavailable")


def test_reads_and_writes_are_503_in_json_when_the_database_does_not_answer(app_without_database):
    responses = [
        app_without_database.get("/usuarios"),
        app_without_database.get("/logs"),
        app_without_database.post("/usuarios", json={"nome": "Ana", "email": "ana@example.com"}),
    ]
    assert [(r.status_code, r.is_json) for r in responses] == [(503, True)] * 3


def test_the_first_request_after_the_database_restarts_is_served(postgres_server):
    server = PostgresServer(postgres_server.bindir).start()
    try:
        template = server.load_template()
        server.create_database("restarted", template)
        client = create_app(
            {"TESTING": True, "DATABASE": server.app_dsn("restarted")}
        ).test_client()
        assert client.get("/status").status_code == 200  # a pooled connection now exists
        server.restart()  # returns once the new server accepts connections
        # The pooled connection, closed by the old server, is seen so before it is
        # used: not even the first request after the restart fails.
        assert [
            client.get("/status").status_code,
            client.post("/usuarios", json={"nome": "Ana", "email": "ana@example.com"}).status_code,
            client.get("/usuarios").status_code,
        ] == [200, 201, 200]
    finally:
        server.stop()
