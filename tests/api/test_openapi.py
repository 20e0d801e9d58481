"""GET /openapi.json: a valid OpenAPI 3.0 document that matches the app's real
routes and real responses (the fuzzer in test_fuzz.py then checks thousands more)."""

import openapi_spec_validator
import pytest
import schemathesis
from openapi_schema_validator import OAS30Validator

from desafio2 import create_app
from desafio2.openapi import JSON
from testing.postgres_server import free_port

# The HTML page at / is for people (the page blueprint), not API clients.
NOT_API_BLUEPRINTS = {"page"}


@pytest.fixture
def document(client):
    response = client.get("/openapi.json")
    assert (response.status_code, response.mimetype) == (200, JSON)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return response.get_json()


def test_the_document_is_valid_openapi(document):
    openapi_spec_validator.validate(document)
    assert document["openapi"].startswith("3.0")


def test_every_route_and_method_is_documented_and_nothing_else(app, document):
    routed = {
        (rule.rule, method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and rule.endpoint.split(".")[0] not in NOT_API_BLUEPRINTS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    assert documented == routed


def test_the_version_is_the_apps(app, document):
    assert document["info"]["version"] == app.config["VERSION"]


def test_documented_limits_are_the_enforced_ones(client, document):
    schema = document["components"]["schemas"]["NovoUsuario"]["properties"]["nome"]
    at_max = client.post("/usuarios", json={"nome": "a" * schema["maxLength"], "email": "a@b.co"})
    over = client.post(
        "/usuarios", json={"nome": "a" * (schema["maxLength"] + 1), "email": "b@b.co"}
    )
    assert (at_max.status_code, over.status_code) == (201, 400)
    limit = next(p for p in document["paths"]["/logs"]["get"]["parameters"] if p["name"] == "limit")
    maximum = limit["schema"]["maximum"]
    assert client.get(f"/logs?limit={maximum}").status_code == 200
    assert client.get(f"/logs?limit={maximum + 1}").status_code == 400


def assert_conforms(document: dict, method: str, path: str, response) -> None:
    # validate_response checks a body against its status' schema, and lets an undocumented status pass.
    assert str(response.status_code) in document["paths"][path][method.lower()]["responses"]
    schemathesis.openapi.from_dict(document)[path][method].validate_response(response)


REAL_RESPONSES = [
    pytest.param("GET", "/usuarios?limit=1", None, 200, id="usuarios-page-with-link"),
    pytest.param("GET", "/usuarios?limit=0", None, 400, id="usuarios-bad-limit"),
    pytest.param("GET", "/logs", None, 200, id="logs"),
    pytest.param("GET", "/logs?after=x", None, 400, id="logs-bad-after"),
    pytest.param("GET", "/status", None, 200, id="status"),
    pytest.param("POST", "/usuarios", {"nome": "Ana", "email": "ana@example.com"}, 201, id="201"),
    pytest.param("POST", "/usuarios", {"nome": "Ana"}, 400, id="400"),
    pytest.param("POST", "/usuarios", {"nome": "J", "email": "JOAO@example.com"}, 409, id="409"),
    pytest.param("POST", "/usuarios", {"nome": "a" * 20000, "email": "a@b.co"}, 413, id="413"),
    pytest.param("GET", "/openapi.json", None, 200, id="openapi"),
]


@pytest.mark.parametrize(("method", "url", "body", "status"), REAL_RESPONSES)
def test_real_responses_conform_to_the_document(client, document, method, url, body, status):
    response = client.open(url, method=method, json=body)
    assert response.status_code == status
    assert_conforms(document, method, url.split("?")[0], response)


def test_a_415_conforms_to_the_document(client, document):
    response = client.post("/usuarios", data="nome=Ana", content_type="text/plain")
    assert response.status_code == 415
    assert_conforms(document, "POST", "/usuarios", response)


def test_the_link_header_is_documented_and_sent(client, document):
    response = client.get("/usuarios?limit=2")
    assert "Link" in document["paths"]["/usuarios"]["get"]["responses"]["200"]["headers"]
    assert response.headers["Link"].endswith('>; rel="next"')
    assert "limit=2" in response.headers["Link"] and "after=2" in response.headers["Link"]


@pytest.mark.parametrize(
    ("method", "path", "status", "name"),
    [("GET", "/nao-existe", 404, "NotFound"), ("DELETE", "/usuarios", 405, "MethodNotAllowed")],
)
def test_routing_errors_match_their_documented_responses(
    client, document, method, path, status, name
):
    documented = document["components"]["responses"][name]
    response = client.open(path, method=method)
    assert (response.status_code, response.mimetype) == (status, JSON)
    OAS30Validator(document["components"]["schemas"]["Error"]).validate(response.get_json())
    assert set(documented.get("headers", {})) <= set(response.headers.keys())


def test_unavailable_database_responses_conform(document):
    dsn = {"host": "127.0.0.1", "port": free_port(), "user": "x", "password": "x", "dbname": "x"}
    client = create_app({"TESTING": True, "DATABASE": dsn}).test_client()
    for method, path in [("GET", "/status"), ("GET", "/usuarios"), ("POST", "/usuarios")]:
        response = client.open(path, method=method, json={"nome": "Ana", "email": "a@b.co"})
        assert response.status_code == 503
        assert_conforms(document, method, path, response)
