"""What the page shows, read from the database in one snapshot. Rows keep the
original project's column names (nome, email, data_criacao, acao, mensagem,
usuario_id)."""

import dataclasses
from datetime import datetime
from typing import NamedTuple

from desafio2 import db, startup
from desafio2.status import COUNTS

USUARIOS_SHOWN = 50
LOGS_SHOWN = 15
STARTS_SHOWN = 50

# The newest rows, each read backwards on a primary key, so the same cost at any table size.
LATEST_USUARIOS = """
    SELECT id, nome, email, data_criacao FROM usuarios ORDER BY id DESC LIMIT %(limit)s
"""
LATEST_LOGS = """
    SELECT id, acao, mensagem, usuario_id, data_criacao FROM logs
    ORDER BY id DESC LIMIT %(limit)s
"""
# The app's starts and how many there are. A start concerns no user
# (startup.py writes no usuario_id), and `usuario_id IS NULL` lets the index on
# usuario_id find the few such rows: filtering on acao alone read every log
# backwards, and counted over all of them, at 1,000,000 logs.
LATEST_STARTS = """
    SELECT id, mensagem, data_criacao, count(*) OVER () FROM logs
    WHERE usuario_id IS NULL AND acao = %(acao)s
    ORDER BY id DESC LIMIT %(limit)s
"""


class Usuario(NamedTuple):
    id: int
    nome: str
    email: str
    data_criacao: datetime


class Log(NamedTuple):
    id: int
    acao: str
    mensagem: str
    usuario_id: int | None
    data_criacao: datetime


@dataclasses.dataclass(frozen=True)
class Start:
    """One start of the app, as the timeline shows it."""

    id: int
    data_criacao: datetime
    container: str | None  # None: a row startup.py did not write; the page shows its mensagem
    detail: str
    mensagem: str
    current: bool


def _start(row: tuple, current_container: str) -> Start:
    log_id, mensagem, data_criacao = row[:3]
    container, detail = None, ""
    if mensagem.startswith(startup.MENSAGEM_PREFIX):
        container, _, detail = mensagem.removeprefix(startup.MENSAGEM_PREFIX).partition("; ")
    return Start(log_id, data_criacao, container, detail, mensagem, container == current_container)


@dataclasses.dataclass(frozen=True)
class Shown:
    """Everything the page shows of the database."""

    database_ok: bool
    usuarios: list[Usuario]
    usuarios_count: int | None
    logs: list[Log]
    logs_count: int | None
    starts: list[Start]
    starts_count: int

    @property
    def current_start_recorded(self) -> bool:
        return any(start.current for start in self.starts)


# What the page shows while the database does not answer.
DATABASE_DOWN = Shown(False, [], None, [], None, [], 0)


def read() -> Shown:
    """The page's data; raises one of db.UNAVAILABLE when the database does not answer."""
    current_container = startup.container_id()
    with db.transaction() as cursor:
        # One snapshot for every query, so the counts agree with the tables shown.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute(COUNTS)
        usuarios_count, logs_count = cursor.fetchone()
        cursor.execute(LATEST_USUARIOS, {"limit": USUARIOS_SHOWN})
        usuarios = [Usuario(*row) for row in cursor.fetchall()[::-1]]
        cursor.execute(LATEST_LOGS, {"limit": LOGS_SHOWN})
        logs = [Log(*row) for row in cursor.fetchall()]
        cursor.execute(LATEST_STARTS, {"acao": startup.ACAO, "limit": STARTS_SHOWN})
        rows = cursor.fetchall()[::-1]
    return Shown(
        database_ok=True,
        usuarios=usuarios,
        usuarios_count=usuarios_count,
        logs=logs,
        logs_count=logs_count,
        starts=[_start(row, current_container) for row in rows],
        starts_count=rows[0][3] if rows else 0,
    )
