"""Routing mistakes and the headers every response carries."""

import pytest


def test_unknown_route_is_a_json_404(client):
    response = client.get("/nao-existe")
    assert (response.status_code, response.get_json()) == (404, {"error": "not found"})


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_wrong_method_is_a_json_405_listing_the_allowed_ones(client, method):
    response = client.open("/usuarios", method=method)
    assert (response.status_code, response.is_json) == (405, True)
    assert {"GET", "POST"} <= set(response.headers["Allow"].split(", "))


@pytest.mark.parametrize("path", ["/usuarios", "/logs", "/status", "/nao-existe"])
def test_responses_forbid_content_sniffing(client, path):
    assert client.get(path).headers["X-Content-Type-Options"] == "nosniff"


def test_debug_is_off(app):
    assert app.debug is False
