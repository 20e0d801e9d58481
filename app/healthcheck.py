"""The container's health check: healthy when /status answers 200 (app and database up).

Standard library only, so a check every few seconds costs a few milliseconds."""

import sys
import urllib.request

try:
    with urllib.request.urlopen("http://127.0.0.1:5000/status", timeout=3) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError as error:
    print(f"unhealthy: {error}", file=sys.stderr)
    sys.exit(1)
