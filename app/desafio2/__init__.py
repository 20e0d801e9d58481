"""The Desafio 2 app: the API (usuarios, logs, status) over PostgreSQL, and the page at /.

One module per area, as Flask's tutorial (flaskr) keeps its blueprints: the code
behind a URL is in the module named after it (usuarios.py for /usuarios, logs.py,
status.py, page/ for /, openapi.py), its SQL included. What they share: db.py (the
pool), pagination.py (the lists), request_body.py (reading a JSON body), schema.py
(the shapes), errors.py (every error, the common headers), settings.py. The
migrator and the app's wait for it are migrations/; startup.py records each start.
"""

from flask import Flask

__version__ = "1.0.0"

# A POST body is a name and an email: anything larger is a mistake or an attack.
MAX_BODY_BYTES = 16 * 1024


def create_app(overrides: dict | None = None) -> Flask:
    """App factory. Settings come from the environment (settings.py), read once
    here into the app's config; `overrides` (tests, benchmarks) win."""
    from desafio2 import db, errors, logs, openapi, page, request_body, settings, status, usuarios

    config = settings.read()
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        VERSION=__version__,
        DATABASE=config.database,
        # Each of a worker's threads may hold one pooled connection (db.py).
        DATABASE_POOL_SIZE=config.threads,
        VOLUME_NAME=config.volume_name,
    )
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    if overrides:
        app.config.update(overrides)

    db.init_app(app, prepared=(*usuarios.PREPARED, *logs.PREPARED))
    request_body.init_app(app)
    errors.init_app(app)
    app.register_blueprint(usuarios.bp)
    app.register_blueprint(logs.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(page.bp)
    app.register_blueprint(openapi.bp)
    return app
