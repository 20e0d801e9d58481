"""The page at `/`: persistence at a glance, in Portuguese, server-rendered.

GET shows the users, the latest logs, the timeline of the app's starts
(api/startup.py writes one row per container start) and the stack's health.
POST is the form: form-encoded nome and email, checked by the API's own rules
(validation.new_usuario) and written by the API's own INSERT
(usuarios.insert_usuario). A mistake re-renders the page with the message next
to the field and the typed values kept (400 or 409); success redirects to `/`
(303, Post/Redirect/Get), so reloading never posts twice.

No JavaScript: the Content-Security-Policy allows none, and styles only with
the nonce of this response. Jinja escapes every value the page shows.

Cross-site requests: the page has no login, but a site the user visits could
still make the browser post the form to 127.0.0.1. The POST is refused unless
it comes from this origin, judged by the headers browsers always send
(Sec-Fetch-Site, else Origin), the way Go's net/http CrossOriginProtection
does. A request with neither header is not from a browser, so it cannot be
forged by another site, and it is accepted like any API call. This needs no
secret, cookie or session, unlike a CSRF token, and the API already accepts
the same write from any client.
"""

import dataclasses
import os
import re
import secrets
from datetime import UTC, datetime

import psycopg2
from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from api import db, queries, startup
from api.errors import ApiError
from api.usuarios import insert_usuario
from api.validation import FIELDS, new_usuario

bp = Blueprint("page", __name__, template_folder="templates")

USUARIOS_SHOWN = 50
LOGS_SHOWN = 15
STARTS_SHOWN = 50

LATEST_USUARIOS = """
    SELECT id, nome, email, data_criacao FROM usuarios ORDER BY id DESC LIMIT %(limit)s
"""
LATEST_LOGS = """
    SELECT id, acao, mensagem, usuario_id, data_criacao FROM logs
    ORDER BY id DESC LIMIT %(limit)s
"""
LATEST_STARTS = """
    SELECT id, mensagem, data_criacao, count(*) OVER () FROM logs WHERE acao = %(acao)s
    ORDER BY id DESC LIMIT %(limit)s
"""

# The API's messages are English; the page speaks Portuguese. Anything without
# a translation here is shown as the API wrote it (tests/api/test_page.py
# checks that every mistake the form can make is translated).
_TRANSLATIONS = [
    (re.compile(r"(\w+) is required"), "{0}: campo obrigatório"),
    (re.compile(r"(\w+) must not be empty"), "{0}: não pode ficar em branco"),
    (re.compile(r"(\w+) must be at most (\d+) characters"), "{0}: no máximo {1} caracteres"),
    (
        re.compile(r"(\w+) must not contain control characters"),
        "{0}: não pode conter caracteres de controle",
    ),
    (
        re.compile(r"email is not a valid address.*"),
        "email: endereço inválido (esperado nome@dominio.tld)",
    ),
    (re.compile(r"email (.+) is already registered"), "email: {0} já está cadastrado"),
]


def em_portugues(message: str) -> str:
    for pattern, template in _TRANSLATIONS:
        match = pattern.fullmatch(message)
        if match:
            return template.format(*match.groups())
    return message


@dataclasses.dataclass(frozen=True)
class Inicio:
    """One start of the app, as the timeline shows it."""

    id: int
    data_criacao: datetime
    container: str | None  # None: a row startup.py did not write; the page shows its mensagem
    detalhe: str
    mensagem: str
    atual: bool


def _inicio(row: tuple, current: str) -> Inicio:
    log_id, mensagem, data_criacao = row[:3]
    container, detalhe = None, ""
    if mensagem.startswith(startup.MENSAGEM_PREFIX):
        container, _, detalhe = mensagem.removeprefix(startup.MENSAGEM_PREFIX).partition("; ")
    return Inicio(log_id, data_criacao, container, detalhe, mensagem, container == current)


def _read_page_data() -> dict:
    current = startup.container_id()
    with db.transaction() as cursor:
        # One snapshot for every query, so the counts agree with the tables shown.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute(queries.COUNTS)
        usuarios_total, logs_total = cursor.fetchone()
        cursor.execute(LATEST_USUARIOS, {"limit": USUARIOS_SHOWN})
        usuarios = cursor.fetchall()[::-1]
        cursor.execute(LATEST_LOGS, {"limit": LOGS_SHOWN})
        logs = cursor.fetchall()
        cursor.execute(LATEST_STARTS, {"acao": startup.ACAO, "limit": STARTS_SHOWN})
        starts = cursor.fetchall()[::-1]
    inicios = [_inicio(row, current) for row in starts]
    return {
        "banco_ok": True,
        "usuarios": usuarios,
        "usuarios_total": usuarios_total,
        "logs": logs,
        "logs_total": logs_total,
        "inicios": inicios,
        "inicios_total": starts[0][3] if starts else 0,
        "atual_registrado": any(inicio.atual for inicio in inicios),
    }


def _unavailable_page_data() -> dict:
    return {
        "banco_ok": False,
        "usuarios": [],
        "usuarios_total": None,
        "logs": [],
        "logs_total": None,
        "inicios": [],
        "inicios_total": 0,
        "atual_registrado": False,
    }


def _render(status: int, valores: dict | None = None, erros: dict | None = None):
    try:
        data = _read_page_data()
    except (db.DatabaseUnavailable, psycopg2.OperationalError, psycopg2.InterfaceError):
        data = _unavailable_page_data()
        # A client's mistake stays its 4xx; a page that could not be read is a 503.
        status = 503 if status < 400 else status
    response = current_app.make_response(
        (
            render_template(
                "page/index.html",
                **data,
                valores=valores or {},
                erros=erros or {},
                container=startup.container_id(),
                volume=os.environ.get("VOLUME_NAME"),
                versao=current_app.config["VERSION"],
                limites={"usuarios": USUARIOS_SHOWN, "logs": LOGS_SHOWN},
            ),
            status,
        )
    )
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


@bp.get("/")
def index():
    return _render(200)


@bp.post("/")
def create_from_form():
    if _cross_origin():
        return _error_page(
            403, "Formulário enviado por outro site: recusado. Abra esta página e envie por ela."
        )
    # Only nome and email: the API's rejection of unknown fields is for JSON
    # clients, and a form may carry other inputs (a submit button's name).
    valores = {name: request.form[name] for name in FIELDS if name in request.form}
    try:
        insert_usuario(new_usuario(valores))
    except ApiError as error:
        return _render(error.status, valores, {error.field or "geral": em_portugues(error.message)})
    except (db.DatabaseUnavailable, psycopg2.OperationalError, psycopg2.InterfaceError):
        erro = "o banco de dados não respondeu; nada foi gravado, tente de novo"
        return _render(503, valores, {"geral": erro})
    return redirect(url_for("page.index"), 303)


def _cross_origin() -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return origin != request.host_url.rstrip("/")


def _error_page(status: int, mensagem: str):
    return render_template("page/erro.html", status=status, mensagem=mensagem), status


_HTTP_MESSAGES = {
    400: "Pedido inválido.",
    413: "Pedido grande demais: o formulário aceita só nome e email.",
}


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    # The page's own failures (a 413 on a huge form, say) are pages too;
    # API routes keep their JSON errors (errors.py).
    response = error.get_response()
    body, status = _error_page(error.code or 500, _HTTP_MESSAGES.get(error.code, error.name))
    response.set_data(body)
    response.status_code = status
    response.content_type = "text/html; charset=utf-8"
    return response


@bp.before_request
def make_nonce():
    g.csp_nonce = secrets.token_urlsafe(16)


@bp.after_request
def page_headers(response):
    nonce = g.get("csp_nonce", "")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.app_template_filter("data_hora")
def data_hora(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%d/%m/%Y %H:%M:%S UTC")


@bp.app_template_filter("iso")
def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
