"""Reading a request's body: its JSON object, and a server's decoding errors
made the client's."""

import json
from decimal import Decimal

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from desafio2.errors import ApiError


def json_object() -> dict:
    """The body as a JSON object, or the ApiError that says why it is not one."""
    if not request.is_json:
        raise ApiError("content_type")
    raw = request.get_data(cache=False)
    # werkzeug refuses a Content-Length over the limit, but cuts a chunked body
    # (no length; the server ends its stream) at the limit instead: one more
    # byte behind it means the client sent too much, and the cut part, which
    # may still parse, must not be stored.
    limit = request.max_content_length
    if (
        request.content_length is None
        and limit is not None
        and len(raw) >= limit
        and request.environ["wsgi.input"].read(1)
    ):
        raise RequestEntityTooLarge()
    try:
        # Decimal: int() refuses numbers of over 4300 digits, and such a number
        # is still JSON, to be reported as the wrong type like any other.
        payload = json.loads(raw.decode("utf-8"), parse_int=Decimal)
    except UnicodeDecodeError:
        raise ApiError("body_not_utf8") from None
    except (ValueError, RecursionError):
        raise ApiError("body_not_json") from None
    if not isinstance(payload, dict):
        raise ApiError("body_not_object")
    return payload


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
            raise ApiError("body_malformed", detail=str(error)) from None

    def read(self, *args):
        return self._call(self._stream.read, *args)

    def readline(self, *args):
        return self._call(self._stream.readline, *args)

    def readlines(self, *args):
        return self._call(self._stream.readlines, *args)

    def __iter__(self):
        return iter(self.readline, b"")


def init_app(app: Flask) -> None:
    wsgi_app = app.wsgi_app

    def guarded(environ, start_response):
        environ["wsgi.input"] = _GuardedBody(environ["wsgi.input"])
        return wsgi_app(environ, start_response)

    app.wsgi_app = guarded
