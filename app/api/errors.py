"""Every error leaves as JSON: {"error": "<what went wrong>"}, plus "field" when one input is to blame."""

import logging

import psycopg2
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from api.db import DatabaseUnavailable

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A client mistake, reported with its status code."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


def error_response(status: int, message: str, field: str | None = None):
    body = {"error": message}
    if field is not None:
        body["field"] = field
    return jsonify(body), status


class _GuardedBody:
    """The request body as the server hands it over, with its decoding errors
    made the client's: gunicorn raises its own exceptions (InvalidChunkSize,
    ChunkMissingTerminator, ...) from the middle of a read when a chunked body
    is malformed, which would otherwise be a 500. A disconnect stays an
    OSError, which werkzeug already answers with a 400."""

    def __init__(self, stream):
        self._stream = stream

    def _call(self, method, *args):
        try:
            return method(*args)
        except OSError:
            raise
        except Exception as error:
            raise ApiError(400, f"request body is malformed: {error}") from None

    def read(self, *args):
        return self._call(self._stream.read, *args)

    def readline(self, *args):
        return self._call(self._stream.readline, *args)

    def readlines(self, *args):
        return self._call(self._stream.readlines, *args)

    def __iter__(self):
        return iter(self.readline, b"")


def _guard_body(wsgi_app):
    def guarded(environ, start_response):
        environ["wsgi.input"] = _GuardedBody(environ["wsgi.input"])
        return wsgi_app(environ, start_response)

    return guarded


def init_app(app: Flask) -> None:
    app.wsgi_app = _guard_body(app.wsgi_app)

    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        return error_response(error.status, error.message, error.field)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Keep werkzeug's headers (Allow on a 405, for one); replace its HTML body.
        response = error.get_response()
        body, _ = error_response(error.code, _describe(error))
        response.set_data(body.get_data())
        response.content_type = "application/json"
        return response

    @app.errorhandler(DatabaseUnavailable)
    @app.errorhandler(psycopg2.OperationalError)
    @app.errorhandler(psycopg2.InterfaceError)
    def database_unavailable(error: Exception):
        log.warning("database unavailable: %s", str(error).strip())
        response, status = error_response(503, "database unavailable, try again shortly")
        response.headers["Retry-After"] = "5"
        return response, status

    @app.after_request
    def security_headers(response):
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def _describe(error: HTTPException) -> str:
    messages = {
        404: "not found",
        405: "method not allowed",
        413: "request body too large",
    }
    return messages.get(error.code, error.name.lower())
