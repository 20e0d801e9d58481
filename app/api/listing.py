"""A paginated JSON array of one table's rows, shared by /usuarios and /logs."""

from flask import jsonify

from api import db
from api.pagination import add_next_link, fetch_page, page_params
from api.serialize import rows_to_dicts


def paginated_list(endpoint: str, query: str, columns: tuple[str, ...]):
    params = page_params()
    with db.transaction() as cursor:
        rows, has_next = fetch_page(cursor, query, params)
    response = jsonify(rows_to_dicts(columns, rows))
    if has_next:
        add_next_link(response, endpoint, params["limit"], rows[-1][0])
    return response
