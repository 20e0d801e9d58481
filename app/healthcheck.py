"""The container's health check: healthy when GET /status answers 200 (the app and
its database up).

It runs every second, so it is as cheap as a check can be: one HTTP/1.0 request on
a plain socket, and the interpreter started with -I -S (no site-packages, no
PYTHON* variables). PORT is the one gunicorn binds (desafio2/settings.py).
"""

import os
import socket
import sys

PORT = int(os.environ.get("PORT", "5000"))
REQUEST = b"GET /status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"

try:
    with socket.create_connection(("127.0.0.1", PORT), timeout=3) as connection:
        connection.sendall(REQUEST)
        status_line = connection.makefile("rb").readline().decode("latin-1").strip()
except OSError as error:
    print(f"unhealthy: {error}", file=sys.stderr)
    sys.exit(1)
if status_line.split()[1:2] == ["200"]:
    sys.exit(0)
print(f"unhealthy: GET /status answered {status_line or 'nothing'}", file=sys.stderr)
sys.exit(1)
