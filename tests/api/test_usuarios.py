"""GET and POST /usuarios on a real PostgreSQL built by db/migrations."""

from datetime import datetime

import psycopg2.errors
import pytest

SEED = [
    ("João Silva", "joao@example.com"),
    ("Maria Santos", "maria@example.com"),
    ("Pedro Oliveira", "pedro@example.com"),
]


def test_lists_exactly_the_seed_users_in_id_order(client):
    body = client.get("/usuarios").get_json()
    assert [(u["id"], u["nome"], u["email"]) for u in body] == [
        (i, nome, email) for i, (nome, email) in enumerate(SEED, start=1)
    ]


def test_each_user_has_the_seed_fields_with_an_iso_8601_date(client):
    (first, *_) = client.get("/usuarios").get_json()
    assert set(first) == {"id", "nome", "email", "data_criacao"}
    assert datetime.fromisoformat(first["data_criacao"]).tzinfo is not None


def test_database_starts_with_the_seed_counts(rows):
    assert rows.counts() == (3, 2)


def test_create_returns_201_with_the_new_user(client):
    response = client.post("/usuarios", json={"nome": "Ana Costa", "email": "ana@example.com"})
    assert response.status_code == 201
    assert {k: response.get_json()[k] for k in ("id", "nome", "email")} == {
        "id": 4,
        "nome": "Ana Costa",
        "email": "ana@example.com",
    }


def test_created_user_is_listed(client):
    client.post("/usuarios", json={"nome": "Ana Costa", "email": "ana@example.com"})
    assert [u["nome"] for u in client.get("/usuarios").get_json()][-1] == "Ana Costa"


def test_create_writes_a_log_row_for_the_user(client, rows):
    created = client.post("/usuarios", json={"nome": "Ana Costa", "email": "ana@example.com"})
    assert rows.query("SELECT acao, usuario_id FROM logs ORDER BY id DESC LIMIT 1") == [
        ("usuario_criado", created.get_json()["id"])
    ]


def test_surrounding_whitespace_is_trimmed(client):
    response = client.post("/usuarios", json={"nome": "  Ana  ", "email": " ana@example.com "})
    assert (response.get_json()["nome"], response.get_json()["email"]) == ("Ana", "ana@example.com")


def test_user_and_log_are_written_in_one_transaction(client, rows):
    # Make the log insert fail after the user insert succeeded: neither may remain.
    with rows.connection() as cursor:
        cursor.execute(
            "ALTER TABLE logs ADD CONSTRAINT no_new_log CHECK (acao <> 'usuario_criado') NOT VALID"
        )
    with pytest.raises(psycopg2.errors.CheckViolation):
        client.post("/usuarios", json={"nome": "Ana Costa", "email": "ana@example.com"})
    assert rows.counts() == (3, 2)


BAD_BODIES = [
    pytest.param(b'{"nome": "Ana",', "not valid JSON", id="malformed-json"),
    pytest.param(b'["Ana", "ana@example.com"]', "JSON object", id="array-not-object"),
    pytest.param(b'"Ana"', "JSON object", id="string-not-object"),
    pytest.param(b'{"email": "ana@example.com"}', "nome is required", id="missing-nome"),
    pytest.param(b'{"nome": "Ana"}', "email is required", id="missing-email"),
    pytest.param(
        b'{"nome": "", "email": "ana@example.com"}', "nome must not be empty", id="empty-nome"
    ),
    pytest.param(
        b'{"nome": "   ", "email": "ana@example.com"}', "nome must not be empty", id="blank-nome"
    ),
    pytest.param(b'{"nome": "Ana", "email": ""}', "email must not be empty", id="empty-email"),
    pytest.param(
        ('{"nome": "%s", "email": "ana@example.com"}' % ("a" * 101)).encode(),
        "at most 100",
        id="nome-too-long",
    ),
    pytest.param(
        ('{"nome": "Ana", "email": "%s@example.com"}' % ("a" * 250)).encode(),
        "at most 254",
        id="email-too-long",
    ),
    pytest.param(b'{"nome": "Ana", "email": "ana.example.com"}', "valid address", id="email-no-at"),
    pytest.param(b'{"nome": "Ana", "email": "ana@example"}', "valid address", id="email-no-dot"),
    pytest.param(b'{"nome": "Ana", "email": "a b@example.com"}', "valid address", id="email-space"),
    pytest.param(
        b'{"nome": 42, "email": "ana@example.com"}', "nome must be a string", id="nome-number"
    ),
    pytest.param(b'{"nome": "Ana", "email": null}', "email must be a string", id="email-null"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_bad_input_is_a_400_naming_the_problem_and_writes_nothing(client, rows, body, message):
    response = client.post("/usuarios", data=body, content_type="application/json")
    assert (response.status_code, response.is_json) == (400, True)
    assert message in response.get_json()["error"]
    assert rows.counts() == (3, 2)


def test_duplicate_email_is_a_409_and_writes_nothing(client, rows):
    response = client.post("/usuarios", json={"nome": "Outro João", "email": "joao@example.com"})
    assert (response.status_code, response.get_json()["field"]) == (409, "email")
    assert rows.counts() == (3, 2)


def test_email_differing_only_in_case_is_a_duplicate(client):
    response = client.post("/usuarios", json={"nome": "Outro João", "email": "JOAO@Example.COM"})
    assert response.status_code == 409


def test_body_without_json_content_type_is_a_415(client, rows):
    response = client.post("/usuarios", data='{"nome": "Ana", "email": "ana@example.com"}')
    assert (response.status_code, response.is_json) == (415, True)
    assert rows.counts() == (3, 2)


def test_body_over_the_limit_is_a_413(client, rows):
    response = client.post(
        "/usuarios", data=b"{" + b" " * 20000 + b"}", content_type="application/json"
    )
    assert (response.status_code, response.is_json) == (413, True)
    assert rows.counts() == (3, 2)
