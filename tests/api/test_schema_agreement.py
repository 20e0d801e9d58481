"""/openapi.json and the checks the API runs must say the same thing: each
documented field, limit and required key is the one validation enforces,
and the page bounds are the ones pagination enforces. No database needed."""

import pytest

from desafio2 import create_app, pagination
from desafio2.errors import ApiError
from desafio2.usuarios import new_usuario


@pytest.fixture(scope="module")
def app():
    return create_app({"TESTING": True})


@pytest.fixture(scope="module")
def novo_usuario(app):
    document = app.test_client().get("/openapi.json").get_json()
    return document["components"]["schemas"]["NovoUsuario"]


@pytest.fixture(scope="module")
def page_parameters(app):
    document = app.test_client().get("/openapi.json").get_json()
    return {p["name"]: p["schema"] for p in document["paths"]["/logs"]["get"]["parameters"]}


def sample(schema: dict, length: int) -> str:
    """A value of `length` characters that meets `schema` in every other way."""
    if schema.get("format") == "email":
        return "a" * (length - len("@b.c")) + "@b.c"
    return "a" * length


def valid(document_schema: dict) -> dict:
    return {name: prop["example"] for name, prop in document_schema["properties"].items()}


def rejection(payload: dict) -> tuple[str, str | None]:
    with pytest.raises(ApiError) as raised:
        new_usuario(payload)
    return raised.value.code, raised.value.field


def test_the_documented_example_is_accepted_as_it_is(novo_usuario):
    assert new_usuario(valid(novo_usuario)) == valid(novo_usuario)


def test_each_required_key_is_required(novo_usuario):
    assert set(novo_usuario["required"]) == set(novo_usuario["properties"])
    for name in novo_usuario["required"]:
        payload = {k: v for k, v in valid(novo_usuario).items() if k != name}
        assert rejection(payload) == ("required", name)


def test_no_field_outside_the_document_is_accepted(novo_usuario):
    assert novo_usuario["additionalProperties"] is False
    assert rejection({**valid(novo_usuario), "apelido": "Ana"}) == ("unknown_fields", "apelido")


@pytest.mark.parametrize("name", ["nome", "email"])
def test_each_documented_length_is_the_enforced_one(novo_usuario, name):
    schema = novo_usuario["properties"][name]
    payload = valid(novo_usuario)
    for length in (schema["minLength"], schema["maxLength"]):
        assert new_usuario({**payload, name: sample(schema, length)})[name]
    too_long = {**payload, name: sample(schema, schema["maxLength"] + 1)}
    assert rejection(too_long) == ("too_long", name)
    too_short = {**payload, name: sample(schema, schema["minLength"] - 1)}
    assert rejection(too_short)[1] == name


@pytest.mark.parametrize("name", ["limit", "after"])
def test_each_documented_page_bound_is_the_enforced_one(app, page_parameters, name):
    schema = page_parameters[name]

    def accepted(value: int) -> bool:
        with app.test_request_context(f"/logs?{name}={value}"):
            try:
                return pagination.page_params()[name] == value
            except ApiError as error:
                assert (error.code, error.field) == ("not_a_whole_number", name)
                return False

    assert accepted(schema["minimum"]) and accepted(schema["maximum"])
    assert not accepted(schema["minimum"] - 1) and not accepted(schema["maximum"] + 1)
    with app.test_request_context("/logs"):
        assert pagination.page_params()[name] == schema["default"]
