"""/usuarios: list (paginated) and create."""

import psycopg2.errors
from flask import Blueprint, jsonify

from desafio2 import db, queries
from desafio2.errors import ApiError
from desafio2.listing import paginated_list
from desafio2.request_body import json_object
from desafio2.serialize import row_to_dict
from desafio2.validation import new_usuario

bp = Blueprint("usuarios", __name__)


@bp.get("/usuarios")
def list_usuarios():
    return paginated_list("usuarios.list_usuarios", queries.LIST_USUARIOS)


@bp.post("/usuarios")
def create_usuario():
    row = insert_usuario(new_usuario(json_object()))
    return jsonify(row_to_dict(queries.USUARIO_COLUMNS, row)), 201


def insert_usuario(usuario: dict) -> tuple:
    """Writes a validated usuario and its log row; the page's form uses it too."""
    try:
        with db.autocommit() as cursor:
            cursor.execute(queries.CREATE_USUARIO, usuario)
            return cursor.fetchone()
    except psycopg2.errors.UniqueViolation:
        raise ApiError("email_taken", "email", email=usuario["email"]) from None
