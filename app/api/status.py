"""/status: is the app up, does the database answer, what does it hold."""

import os

import psycopg2
import psycopg2.errors
from flask import Blueprint, current_app, jsonify

from api import db, queries

bp = Blueprint("status", __name__)


@bp.get("/status")
def status():
    body = {
        "status": "ok",
        "database": "ok",
        "usuarios": None,
        "logs": None,
        "volume": os.environ.get("VOLUME_NAME"),
        "version": current_app.config["VERSION"],
    }
    try:
        with db.single_statement() as cursor:
            body["usuarios"], body["logs"] = _counts(cursor)
    except (db.DatabaseUnavailable, psycopg2.OperationalError, psycopg2.InterfaceError):
        body.update(status="degraded", database="unavailable")
        return jsonify(body), 503
    return jsonify(body)


def _counts(cursor) -> tuple[int, int]:
    try:
        cursor.execute(queries.COUNTS)
    except psycopg2.errors.UndefinedTable:
        # Health checks call /status: a volume from before contagens must still pass them.
        cursor.execute(queries.COUNTS_BY_SCAN)
    return cursor.fetchone()
