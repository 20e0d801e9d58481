"""Every error leaves as JSON (schema.error_body): {"error": "<what went wrong>"},
plus "field" when one input is to blame; gunicorn's own refusals too. And the
headers every response carries.

An error is a stable code and its parameters (ApiError); the API words it in
English from ENGLISH below, the page in Portuguese from its own catalogue
(page/messages.py), and neither ever reads the other's text.
"""

import json
import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from desafio2 import db
from desafio2.schema import error_body

log = logging.getLogger(__name__)

# The headers of every response, the app's and gunicorn's own refusals' alike. The
# page adds its browser policy (page/security.py).
EVERY_RESPONSE = {
    # A JSON error is never sniffed into HTML.
    "X-Content-Type-Options": "nosniff",
    # Every answer is about the data now: nothing to keep.
    "Cache-Control": "no-store",
}
# A 503's advice: the database is usually back within seconds (a restart).
RETRY_AFTER = {"Retry-After": "5"}

# code: (status, English message with the error's parameters).
ENGLISH = {
    "content_type": (415, "Content-Type must be application/json"),
    "body_malformed": (400, "request body is malformed: {detail}"),
    "body_not_utf8": (400, "body is not valid UTF-8"),
    "body_not_json": (400, "body is not valid JSON"),
    "body_not_object": (
        400,
        'body must be a JSON object such as {{"nome": "...", "email": "..."}}',
    ),
    "unknown_fields": (400, "unknown field(s): {names}; send only nome and email"),
    "required": (400, "{field} is required"),
    "not_a_string": (400, "{field} must be a string"),
    "empty": (400, "{field} must not be empty"),
    "too_long": (400, "{field} must be at most {max_length} characters"),
    "control_characters": (400, "{field} must not contain control characters"),
    "email_invalid": (400, "email is not a valid address (expected name@domain.tld)"),
    "email_taken": (409, "email {email} is already registered"),
    "not_a_whole_number": (400, "{field} must be a whole number from {low} to {high}"),
    "bad_request": (400, "bad request"),
    "not_found": (404, "not found"),
    "method_not_allowed": (405, "method not allowed"),
    "body_too_large": (413, "request body too large"),
    "database_unavailable": (503, "database unavailable, try again shortly"),
}

# werkzeug's own refusals, by status; any other keeps werkzeug's name for it.
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}


class ApiError(Exception):
    """A request the API refuses: a code of ENGLISH and its parameters."""

    def __init__(self, code: str, field: str | None = None, **params):
        super().__init__(code)
        self.code = code
        self.field = field
        self.params = params

    @property
    def status(self) -> int:
        return ENGLISH[self.code][0]

    def english(self) -> str:
        return ENGLISH[self.code][1].format(field=self.field, **self.params)


def error_response(status: int, message: str, field: str | None = None):
    return jsonify(error_body(message, field)), status


def init_app(app: Flask) -> None:
    @app.after_request
    def every_response(response):
        for name, value in EVERY_RESPONSE.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(ApiError)
    def api_error(error: ApiError):
        return error_response(error.status, error.english(), error.field)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # Keep werkzeug's headers (Allow on a 405, for one); replace its HTML body.
        response = error.get_response()
        code = HTTP_CODES.get(error.code)
        message = ENGLISH[code][1] if code else error.name.lower()
        response.set_data(error_response(error.code, message)[0].get_data())
        response.content_type = "application/json"
        return response

    def database_unavailable(error: Exception):
        log.warning("database unavailable: %s", str(error).strip())
        response, status = error_response(*ENGLISH["database_unavailable"])
        response.headers.update(RETRY_AFTER)
        return response, status

    for exception in db.UNAVAILABLE:
        app.register_error_handler(exception, database_unavailable)


# --- gunicorn's own refusals -----------------------------------------------------------
# Some requests never reach the app: gunicorn refuses them while it parses the HTTP, a
# request line over 4094 bytes (414), headers too many or too large (431), a malformed
# request line, header or chunk (400). Its answers are HTML pages; install_in_gunicorn()
# makes them {"error": "..."} with the headers every response carries, so a client
# that reads error bodies as JSON never meets a page. gunicorn.conf.py installs it in
# the master, before the workers fork.


def gunicorn_write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """Same signature and role as gunicorn.util.write_error, which the workers call."""
    from gunicorn import util  # only under gunicorn

    message = f"{reason.lower()}: {mesg}" if mesg else reason.lower()
    body = json.dumps(error_body(message)).encode()
    headers = {
        "Connection": "close",
        "Content-Type": "application/json",
        **EVERY_RESPONSE,
        "Content-Length": str(len(body)),
    }
    lines = [f"HTTP/1.1 {status_int} {reason}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    head = "\r\n".join(lines)
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install_in_gunicorn() -> None:
    from gunicorn import util

    util.write_error = gunicorn_write_error
