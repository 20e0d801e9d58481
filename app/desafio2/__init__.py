"""The Desafio 2 app: the API (usuarios, logs, status) over PostgreSQL, and the page at /."""

from flask import Flask

__version__ = "1.0.0"

# A POST body is a name and an email: anything larger is a mistake or an attack.
MAX_BODY_BYTES = 16 * 1024


def create_app(overrides: dict | None = None) -> Flask:
    """App factory. Settings come from the environment (settings.py), read once
    here into the app's config; `overrides` (tests, benchmarks) win."""
    from desafio2 import (
        db,
        errors,
        headers,
        logs,
        openapi,
        page,
        request_body,
        settings,
        status,
        usuarios,
    )

    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        VERSION=__version__,
        **settings.from_environ(),
    )
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    if overrides:
        app.config.update(overrides)

    db.init_app(app)
    request_body.init_app(app)
    errors.init_app(app)
    headers.init_app(app)
    app.register_blueprint(usuarios.bp)
    app.register_blueprint(logs.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(page.bp)
    app.register_blueprint(openapi.bp)
    return app
