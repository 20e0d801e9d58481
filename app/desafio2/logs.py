"""/logs: what happened, oldest first (paginated). Fields: id, acao (what kind
of event), mensagem, usuario_id (the user concerned, or null), data_criacao."""

from flask import Blueprint

from desafio2 import pagination

bp = Blueprint("logs", __name__)

_PREPARE_LIST, LIST_LOGS = pagination.prepared(
    "list_logs",
    pagination.PAGE_PARAMETERS,
    pagination.json_page("logs", "id, acao, mensagem, usuario_id"),
)
PREPARED = (_PREPARE_LIST,)


@bp.get("/logs")
def list_logs():
    return pagination.paginated_list("logs.list_logs", LIST_LOGS)
