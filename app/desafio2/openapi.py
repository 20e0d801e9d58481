"""GET /openapi.json: the API described as OpenAPI 3.0.

The shapes come from schema.py, which usuarios.new_usuario checks requests against,
and the page bounds and body limit from the constants the code enforces, so a
limit changed in one place cannot leave the description behind.
tests/api/test_openapi.py checks the document against the routes the app
really has, tests/api/test_schema_agreement.py against what validation
accepts, and a schemathesis run checks the responses against it.
"""

from flask import Blueprint, current_app, jsonify

from desafio2 import MAX_BODY_BYTES, pagination, schema

bp = Blueprint("openapi", __name__)

JSON = "application/json"


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json_content(body: dict) -> dict:
    return {JSON: {"schema": body}}


def _error(description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": _json_content(_ref("schemas", "Error"))}
    if headers:
        response["headers"] = headers
    return response


SCHEMAS = {
    "Usuario": schema.USUARIO,
    "NovoUsuario": schema.novo_usuario_schema(),
    "Log": schema.LOG,
    "Status": schema.STATUS,
    "Error": schema.ERROR,
}

PAGE_PARAMETERS = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "how many items at most",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": pagination.MAX_LIMIT,
            "default": pagination.DEFAULT_LIMIT,
        },
    },
    {
        "name": "after",
        "in": "query",
        "required": False,
        "description": "only items whose id is greater (the last id of the previous page)",
        "schema": {"type": "integer", "minimum": 0, "maximum": pagination.MAX_ID, "default": 0},
    },
]

LINK_HEADER = {
    "Link": {
        "description": 'present when another page follows: <url of the next page>; rel="next"',
        "schema": {"type": "string"},
    }
}

RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "string"}}
}

RESPONSES = {
    "BadQuery": _error("limit or after is not a whole number in range"),
    "Unavailable": _error("the database cannot answer now; retry later", RETRY_AFTER),
    "UriTooLong": _error("the request line is over 4094 bytes (gunicorn refuses it)"),
    "NotFound": _error("no such route"),
    "MethodNotAllowed": _error(
        "the route exists but not with this method",
        {"Allow": {"description": "the methods it accepts", "schema": {"type": "string"}}},
    ),
}


def _list_operation(summary: str, item: str, operation_id: str) -> dict:
    return {
        "operationId": operation_id,
        "summary": summary,
        "parameters": PAGE_PARAMETERS,
        "responses": {
            "200": {
                "description": "one page, in id order",
                "headers": LINK_HEADER,
                "content": _json_content({"type": "array", "items": _ref("schemas", item)}),
            },
            "400": _ref("responses", "BadQuery"),
            "414": _ref("responses", "UriTooLong"),
            "503": _ref("responses", "Unavailable"),
        },
    }


PATHS = {
    "/usuarios": {
        "get": _list_operation("List usuarios", "Usuario", "listUsuarios"),
        "post": {
            "operationId": "createUsuario",
            "summary": "Create a usuario (and its log row, atomically)",
            "requestBody": {
                "required": True,
                "content": _json_content(_ref("schemas", "NovoUsuario")),
            },
            "responses": {
                "201": {
                    "description": "created",
                    "content": _json_content(_ref("schemas", "Usuario")),
                },
                "400": _error(
                    "invalid UTF-8 or JSON, not an object, unknown field, or a field "
                    "missing, empty, too long, not a string, with control characters, "
                    "or an invalid email"
                ),
                "409": _error("the email is already registered (whatever its case)"),
                "413": _error(f"the body is larger than {MAX_BODY_BYTES} bytes"),
                "415": _error("the Content-Type is not application/json"),
                "503": _ref("responses", "Unavailable"),
            },
        },
    },
    "/logs": {"get": _list_operation("List logs", "Log", "listLogs")},
    "/status": {
        "get": {
            "operationId": "getStatus",
            "summary": "Whether the app and its database answer, and the row counts",
            "responses": {
                "200": {
                    "description": "all up",
                    "content": _json_content(_ref("schemas", "Status")),
                },
                "503": {
                    "description": "the database does not answer; counts are null",
                    "content": _json_content(_ref("schemas", "Status")),
                },
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "responses": {
                "200": {"description": "OpenAPI 3.0", "content": _json_content({"type": "object"})}
            },
        }
    },
}


def document(version: str) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Desafio 2 API",
            "version": version,
            "description": (
                "Usuarios and logs kept in PostgreSQL. Every response body is JSON; every "
                'error is {"error": "...", "field": "..."} with a 4xx status for a client '
                "mistake (an unknown route is 404, a known route with another method 405 "
                "with Allow) and 503 with Retry-After while the database is unavailable. "
                "Requests gunicorn refuses before the app sees them are answered the same "
                "way: 400 malformed HTTP, 414 a request line over 4094 bytes, 431 headers "
                "too many or too large."
            ),
        },
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "responses": RESPONSES},
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(document(current_app.config["VERSION"]))
