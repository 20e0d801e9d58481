"""A paginated JSON array of one table's rows, shared by /usuarios and /logs."""

from flask import current_app

from desafio2 import db
from desafio2.pagination import add_next_link, page_params


def paginated_list(endpoint: str, query: str):
    """`query` (queries.py) returns the page as JSON text: it goes out as it came."""
    params = page_params()
    with db.autocommit() as cursor:
        cursor.execute(query, params)
        body, last_id, has_next = cursor.fetchone()
    response = current_app.response_class(body, mimetype="application/json")
    if has_next:
        add_next_link(response, endpoint, params["limit"], last_id)
    return response
