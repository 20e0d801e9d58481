"""/status: is the app up, does the database answer, what does it hold."""

from flask import Blueprint, current_app, jsonify

from desafio2 import db

bp = Blueprint("status", __name__)

# The slots the triggers of db/migrations/0004_contagens.sql keep: the same cost at any
# table size. The page reads them too.
COUNTS = """
    SELECT coalesce(sum(linhas) FILTER (WHERE tabela = 'usuarios'), 0)::bigint,
           coalesce(sum(linhas) FILTER (WHERE tabela = 'logs'), 0)::bigint
    FROM contagens
"""


@bp.get("/status")
def status():
    body = {
        "status": "ok",
        "database": "ok",
        "usuarios": None,
        "logs": None,
        "volume": current_app.config["VOLUME_NAME"],
        "version": current_app.config["VERSION"],
    }
    try:
        with db.autocommit() as cursor:
            cursor.execute(COUNTS)
            body["usuarios"], body["logs"] = cursor.fetchone()
    except db.UNAVAILABLE:
        body.update(status="degraded", database="unavailable")
        return jsonify(body), 503
    return jsonify(body)
