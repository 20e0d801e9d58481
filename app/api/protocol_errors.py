"""gunicorn's own error answers, in JSON like every other error of the API.

Some requests never reach the app: gunicorn refuses them while it parses the
HTTP, a request line over 4094 bytes (414), headers too many or too large
(431), a malformed request line, header or chunk (400). Its answers are HTML
pages; `install()` makes them {"error": "..."} with the headers errors.py sets,
so a client that reads error bodies as JSON never meets a page.
gunicorn.conf.py installs it in the master, before the workers fork.
"""

import json

from gunicorn import util


def write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """Same signature and role as gunicorn.util.write_error, which the workers call."""
    message = f"{reason.lower()}: {mesg}" if mesg else reason.lower()
    body = json.dumps({"error": message}).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Cache-Control: no-store\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    util.write_error = write_error
