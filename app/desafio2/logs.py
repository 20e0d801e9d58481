"""/logs: what happened, oldest first (paginated). Fields: id, acao (what kind
of event), mensagem, usuario_id (the user concerned, or null), data_criacao."""

from flask import Blueprint

from desafio2 import queries
from desafio2.listing import paginated_list

bp = Blueprint("logs", __name__)


@bp.get("/logs")
def list_logs():
    return paginated_list("logs.list_logs", queries.LIST_LOGS)
