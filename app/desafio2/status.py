"""/status: is the app up, does the database answer, what does it hold."""

from flask import Blueprint, current_app, jsonify

from desafio2 import db, queries

bp = Blueprint("status", __name__)


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
            cursor.execute(queries.COUNTS)
            body["usuarios"], body["logs"] = cursor.fetchone()
    except db.UNAVAILABLE:
        body.update(status="degraded", database="unavailable")
        return jsonify(body), 503
    return jsonify(body)
