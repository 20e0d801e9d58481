"""The Desafio 2 API: usuarios, logs and status over PostgreSQL."""

from flask import Flask

__version__ = "1.0.0"

# A POST body is a name and an email: anything larger is a mistake or an attack.
MAX_BODY_BYTES = 16 * 1024


def create_app(settings: dict | None = None) -> Flask:
    """App factory. Database settings come from the environment (see db.py)."""
    from api import db, errors, logs, openapi, page, status, usuarios

    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        VERSION=__version__,
    )
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    if settings:
        app.config.update(settings)

    db.init_app(app)
    errors.init_app(app)
    app.register_blueprint(usuarios.bp)
    app.register_blueprint(logs.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(page.bp)
    app.register_blueprint(openapi.bp)
    return app
