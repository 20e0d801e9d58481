"""gunicorn's own error answers, in JSON like every other error of the API.

Some requests never reach the app: gunicorn refuses them while it parses the
HTTP, a request line over 4094 bytes (414), headers too many or too large
(431), a malformed request line, header or chunk (400). Its answers are HTML
pages; `install()` makes them {"error": "..."} with the headers every response carries,
so a client that reads error bodies as JSON never meets a page.
gunicorn.conf.py installs it in the master, before the workers fork.
"""

import json

from gunicorn import util

from desafio2.headers import EVERY_RESPONSE
from desafio2.schema import error_body


def write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """Same signature and role as gunicorn.util.write_error, which the workers call."""
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


def install() -> None:
    util.write_error = write_error
