"""The page's HTML: the data of page/data.py through the templates."""

from datetime import UTC, datetime

from flask import current_app, render_template

from desafio2 import db, startup
from desafio2.errors import RETRY_AFTER
from desafio2.page import data
from desafio2.schema import NOVO_USUARIO


def page(status: int, values: dict | None = None, errors: dict | None = None):
    """The page with the form's typed `values` and its `errors` by field ("form": the
    form's as a whole)."""
    try:
        shown = data.read()
    except db.UNAVAILABLE:
        shown = data.DATABASE_DOWN
        # A client's mistake stays its 4xx; a page that could not be read is a 503.
        status = 503 if status < 400 else status
    html = render_template(
        "page/index.html",
        shown=shown,
        fields=NOVO_USUARIO,
        values=values or {},
        errors=errors or {},
        # A plain GET reloads itself while the database is down (no script needed); a
        # form sent back with what was typed does not, or the typing would be lost.
        refresh_seconds=RETRY_AFTER["Retry-After"]
        if not shown.database_ok and not values
        else None,
        container=startup.container_id(),
        volume=current_app.config["VOLUME_NAME"],
        version=current_app.config["VERSION"],
        limits={"usuarios": data.USUARIOS_SHOWN, "logs": data.LOGS_SHOWN},
    )
    response = current_app.make_response((html, status))
    if status == 503:
        response.headers.update(RETRY_AFTER)
    return response


def error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("page/erro.html", status=status, message=message), status


def date_and_time(value: datetime | None) -> str:
    """An instant as the page writes it: day/month/year, in UTC."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%d/%m/%Y %H:%M:%S UTC")


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()
