"""The page's HTML: the data of page/data.py through the templates."""

from datetime import UTC, datetime

from flask import current_app, render_template

from desafio2 import db, startup
from desafio2.headers import RETRY_AFTER
from desafio2.page import data
from desafio2.schema import NOVO_USUARIO


def page(status: int, valores: dict | None = None, erros: dict | None = None):
    """The page with the form's typed `valores` and its `erros` by field ("geral": the form's)."""
    try:
        shown = data.read()
    except db.UNAVAILABLE:
        shown = data.DATABASE_DOWN
        # A client's mistake stays its 4xx; a page that could not be read is a 503.
        status = 503 if status < 400 else status
    html = render_template(
        "page/index.html",
        **shown,
        campos=NOVO_USUARIO,
        valores=valores or {},
        erros=erros or {},
        container=startup.container_id(),
        volume=current_app.config["VOLUME_NAME"],
        versao=current_app.config["VERSION"],
        limites={"usuarios": data.USUARIOS_SHOWN, "logs": data.LOGS_SHOWN},
    )
    response = current_app.make_response((html, status))
    if status == 503:
        response.headers.update(RETRY_AFTER)
    return response


def error_page(status: int, mensagem: str) -> tuple[str, int]:
    return render_template("page/erro.html", status=status, mensagem=mensagem), status


def data_hora(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%d/%m/%Y %H:%M:%S UTC")


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
