"""Hostile and malformed requests against every endpoint, on a real PostgreSQL.

Each rejected request must get the 4xx it deserves, as JSON naming the
problem (and the field, when one is to blame), and must write nothing: the
row counts of usuarios and logs are compared before and after. Decisions the
cases pin down (docs/reliability.md): unknown fields are rejected, not
ignored; emails are unique whatever their case; surrounding whitespace is
trimmed; control characters are rejected.

The positive cases prove that what is accepted is kept exactly: SQL
metacharacters are stored verbatim (never executed) and names in many
scripts come back byte for byte.
"""

import io
import json
import socket
from urllib.parse import urlsplit

import pytest
import requests

from desafio2 import MAX_BODY_BYTES
from testing.gunicorn_server import gunicorn_app
from testing.hostile_requests import (
    CASES,
    JSON,
    NAMES,
    PROTOCOL,
    SQL_METACHARACTERS,
    VALID,
    Req,
    encode,
    post,
)


def send(client, req: Req):
    headers = {"Content-Type": req.content_type} if req.content_type else {}
    if not req.chunked:
        return client.open(req.path, method=req.method, data=req.body, headers=headers)
    # What gunicorn hands the app for a chunked body: no length, a stream that ends.
    return client.open(
        req.path,
        method=req.method,
        input_stream=io.BytesIO(req.body),
        headers={**headers, "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


@pytest.mark.parametrize(("req", "expected"), CASES)
def test_rejected_with_a_json_4xx_naming_the_problem_and_nothing_written(
    client, rows, req, expected
):
    before = rows.counts()
    response = send(client, req)
    assert response.status_code == expected.status, response.get_data(as_text=True)
    assert response.mimetype == JSON
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_json()
    assert expected.names.lower() in body["error"].lower()
    assert body.get("field") == expected.field
    if expected.status == 405:
        assert "GET" in response.headers["Allow"]
    assert rows.counts() == before


def test_the_table_tries_many_distinct_requests_on_every_endpoint():
    reqs = [param.values[0] for param in CASES]
    assert len(set(reqs)) == len(reqs) >= 40
    assert {req.path.split("?")[0] for req in reqs} >= {"/usuarios", "/logs", "/status"}
    statuses = {param.values[1].status for param in CASES}
    assert statuses == {400, 404, 405, 409, 413, 415}


def test_a_body_of_exactly_the_limit_is_accepted_chunked_or_not(client, rows):
    padded = encode(VALID).ljust(MAX_BODY_BYTES)  # JSON allows trailing whitespace
    assert send(client, post(padded)).status_code == 201
    other = encode({**VALID, "email": "outra@example.com"}).ljust(MAX_BODY_BYTES)
    assert send(client, post(other, chunked=True)).status_code == 201
    assert rows.counts() == (5, 4)


class Served:
    """The app under gunicorn (its image's config) on a database of this module's own."""

    def __init__(self, url: str, server, dbname: str):
        self.url = url
        self._server = server
        self._dbname = dbname

    def written(self) -> tuple[int, int]:
        """usuarios, and logs about a usuario (the server also logs its own start)."""
        with self._server.connect(self._dbname) as cursor:
            cursor.execute(
                "SELECT count(*), (SELECT count(*) FROM logs WHERE usuario_id IS NOT NULL) "
                "FROM usuarios"
            )
            return cursor.fetchone()

    def raw(self, request: bytes) -> tuple[int, dict, bytes]:
        """Sends bytes as they are, HTTP or not; returns status, headers, body."""
        host, port = urlsplit(self.url).hostname, urlsplit(self.url).port
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            received = b"".join(iter(lambda: sock.recv(65536), b""))
        head, _, body = received.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines)
        return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.fixture(scope="module")
def served(postgres_server):
    dbname = "hostile_http"
    postgres_server.create_database(dbname, postgres_server.template)
    try:
        with gunicorn_app(postgres_server.app_dsn(dbname)) as url:
            yield Served(url, postgres_server, dbname)
    finally:
        postgres_server.drop_database(dbname)


def test_a_chunked_body_over_the_limit_is_a_413_over_real_http(served):
    before = served.written()
    # A valid usuario padded past the limit: cutting it at the limit would still parse.
    padded = encode(VALID) + b" " * MAX_BODY_BYTES
    response = requests.post(
        f"{served.url}/usuarios",
        data=iter([padded[:4096], padded[4096:]]),  # an iterator is sent chunked
        headers={"Content-Type": JSON},
        timeout=10,
    )
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert (response.status_code, response.json()["error"]) == (413, "request body too large")
    assert served.written() == before


@pytest.mark.parametrize(("request_bytes", "status", "names"), PROTOCOL)
def test_requests_the_http_server_refuses_get_a_json_4xx_too(served, request_bytes, status, names):
    before = served.written()
    got, headers, body = served.raw(request_bytes)
    assert got == status, body
    assert headers["content-type"] == JSON
    assert headers["x-content-type-options"] == "nosniff"
    assert names.lower() in json.loads(body)["error"].lower()
    assert served.written() == before


@pytest.mark.parametrize("nome", SQL_METACHARACTERS)
def test_sql_metacharacters_are_stored_verbatim_and_never_executed(client, rows, nome):
    email = "o'brien+sql--@example.com"
    created = client.post("/usuarios", json={"nome": nome, "email": email})
    assert created.status_code == 201
    assert (created.get_json()["nome"], created.get_json()["email"]) == (nome, email)
    assert rows.query("SELECT nome, email FROM usuarios WHERE id = 4") == [(nome, email)]
    assert rows.query(
        "SELECT to_regclass('usuarios') IS NOT NULL AND to_regclass('logs') IS NOT NULL"
    ) == [(True,)]
    assert rows.counts() == (4, 3)
    (log,) = rows.query("SELECT mensagem FROM logs WHERE usuario_id = 4")
    assert nome in log[0]


@pytest.mark.parametrize("nome", NAMES)
def test_names_in_many_scripts_round_trip_byte_for_byte(client, rows, nome):
    sent = json.dumps({"nome": nome, "email": "pessoa@example.com"}, ensure_ascii=False)
    created = client.post("/usuarios", data=sent.encode("utf-8"), content_type=JSON)
    assert created.status_code == 201
    assert nome.encode("utf-8") in created.get_data()  # raw UTF-8, not \u escapes
    (listed,) = client.get("/usuarios?after=3").get_json()
    assert listed["nome"].encode("utf-8") == nome.encode("utf-8")
    stored = rows.query("SELECT convert_to(nome, 'UTF8') FROM usuarios WHERE id = 4")
    assert bytes(stored[0][0]) == nome.encode("utf-8")


def test_composed_and_decomposed_forms_are_kept_apart_unnormalized(client, rows):
    for i, nome in enumerate(["Jos\u00e9", "Jose\u0301"]):
        client.post("/usuarios", json={"nome": nome, "email": f"jose{i}@example.com"})
    assert rows.query("SELECT nome FROM usuarios WHERE id > 3 ORDER BY id") == [
        ("Jos\u00e9",),
        ("Jose\u0301",),
    ]


def test_email_is_stored_as_sent_and_unique_whatever_its_case(client, rows):
    created = client.post("/usuarios", json={"nome": "Ana", "email": "Ana.Costa@Example.COM"})
    assert created.get_json()["email"] == "Ana.Costa@Example.COM"
    again = client.post("/usuarios", json={"nome": "Ana", "email": "ana.costa@example.com"})
    assert (again.status_code, again.get_json()["field"]) == (409, "email")
    assert rows.query("SELECT email FROM usuarios WHERE id > 3") == [("Ana.Costa@Example.COM",)]
