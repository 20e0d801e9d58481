"""The headers every response carries, the app's and gunicorn's own refusals'
(protocol_errors.py) alike. The page adds its browser policy (page/security.py)."""

from flask import Flask

EVERY_RESPONSE = {
    # A JSON error is never sniffed into HTML.
    "X-Content-Type-Options": "nosniff",
    # Every answer is about the data now: nothing to keep.
    "Cache-Control": "no-store",
}


def init_app(app: Flask) -> None:
    @app.after_request
    def every_response(response):
        for name, value in EVERY_RESPONSE.items():
            response.headers.setdefault(name, value)
        return response


# A 503's advice: the database is usually back within seconds (a restart).
RETRY_AFTER = {"Retry-After": "5"}
