"""/usuarios: list (paginated) and create; the page's form writes through here too.

What a new usuario must look like is schema.NOVO_USUARIO; a rejection is an ApiError
with its code, naming the field. Decisions (docs/api.md, "Errors"): surrounding
whitespace is trimmed; fields other than nome and email are rejected, so a typo such
as "e-mail" is never silently dropped; emails are unique whatever their case, and
stored as sent.
"""

import re
import unicodedata
from datetime import datetime

import psycopg2.errors
from flask import Blueprint, jsonify

from desafio2 import db, pagination
from desafio2.errors import ApiError
from desafio2.request_body import json_object
from desafio2.schema import NOVO_USUARIO, TextField

bp = Blueprint("usuarios", __name__)

USUARIO_COLUMNS = ("id", "nome", "email", "data_criacao")
# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is not checkable here.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")

_PREPARE_LIST, LIST_USUARIOS = pagination.prepared(
    "list_usuarios",
    pagination.PAGE_PARAMETERS,
    pagination.json_page("usuarios", "id, nome, email"),
)
# One statement, so the user and its log row are written atomically in one round trip.
_PREPARE_CREATE, CREATE_USUARIO = pagination.prepared(
    "create_usuario",
    {"nome": "text", "email": "text"},
    """
    WITH novo AS (
        INSERT INTO usuarios (nome, email) VALUES ($1, $2)
        RETURNING id, nome, email, data_criacao
    ), registro AS (
        INSERT INTO logs (acao, mensagem, usuario_id)
        SELECT 'usuario_criado', 'Usuário criado: ' || nome || ' <' || email || '>', id FROM novo
    )
    SELECT id, nome, email, data_criacao FROM novo
    """,
)
PREPARED = (_PREPARE_LIST, _PREPARE_CREATE)


@bp.get("/usuarios")
def list_usuarios():
    return pagination.paginated_list("usuarios.list_usuarios", LIST_USUARIOS)


@bp.post("/usuarios")
def create_usuario():
    row = insert_usuario(new_usuario(json_object()))
    return jsonify(row_to_dict(USUARIO_COLUMNS, row)), 201


def insert_usuario(usuario: dict) -> tuple:
    """Writes a validated usuario and its log row; the page's form uses it too."""
    try:
        with db.autocommit() as cursor:
            cursor.execute(CREATE_USUARIO, usuario)
            return cursor.fetchone()
    except psycopg2.errors.UniqueViolation:
        raise ApiError("email_taken", "email", email=usuario["email"]) from None


def row_to_dict(columns: tuple[str, ...], row: tuple) -> dict:
    """A row as JSON-ready dict. Timestamps leave as RFC 3339 with all six fractional
    digits, the string the lists get from PostgreSQL; Flask alone would write them
    as HTTP dates."""
    return {
        column: value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value
        for column, value in zip(columns, row, strict=True)
    }


def _text(payload: dict, field: TextField) -> str:
    if field.name not in payload:
        raise ApiError("required", field.name)
    value = payload[field.name]
    if not isinstance(value, str):
        raise ApiError("not_a_string", field.name)
    value = value.strip()
    if not value:
        raise ApiError("empty", field.name)
    if len(value) > field.max_length:
        raise ApiError("too_long", field.name, max_length=field.max_length)
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ApiError("control_characters", field.name)
    if field.format == "email" and not EMAIL_PATTERN.fullmatch(value):
        raise ApiError("email_invalid", field.name)
    return value


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def new_usuario(payload: dict) -> dict:
    """The usuario a payload asks for, checked; the first problem as an ApiError."""
    # Names echoed back escaped: a JSON key may hold a lone surrogate
    # ("\ud800"), which no UTF-8 response can carry.
    unknown = sorted(_printable(name) for name in set(payload) - {f.name for f in NOVO_USUARIO})
    if unknown:
        raise ApiError("unknown_fields", unknown[0], names=", ".join(unknown))
    return {field.name: _text(payload, field) for field in NOVO_USUARIO}
