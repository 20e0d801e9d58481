"""What the page shows, read from the database in one snapshot."""

import dataclasses
from datetime import datetime

from desafio2 import db, queries, startup

USUARIOS_SHOWN = 50
LOGS_SHOWN = 15
STARTS_SHOWN = 50


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


def read() -> dict:
    """The page's data; raises one of db.UNAVAILABLE when the database does not answer."""
    current = startup.container_id()
    with db.transaction() as cursor:
        # One snapshot for every query, so the counts agree with the tables shown.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute(queries.COUNTS)
        usuarios_total, logs_total = cursor.fetchone()
        cursor.execute(queries.LATEST_USUARIOS, {"limit": USUARIOS_SHOWN})
        usuarios = cursor.fetchall()[::-1]
        cursor.execute(queries.LATEST_LOGS, {"limit": LOGS_SHOWN})
        logs = cursor.fetchall()
        cursor.execute(queries.LATEST_STARTS, {"acao": startup.ACAO, "limit": STARTS_SHOWN})
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


# What the page shows while the database does not answer.
DATABASE_DOWN = {
    "banco_ok": False,
    "usuarios": [],
    "usuarios_total": None,
    "logs": [],
    "logs_total": None,
    "inicios": [],
    "inicios_total": 0,
    "atual_registrado": False,
}
