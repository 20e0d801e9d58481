"""The lists, /usuarios and /logs alike: keyset pagination and the SQL of a page.

?limit=N (1 to MAX_LIMIT, default DEFAULT_LIMIT) and ?after=ID (the last id of the
previous page), and a Link: rel="next" header when there is more (the GitHub API's
convention). The body stays a plain array, so clients that read the whole list
still get one. Anything else in limit or after is a 400 naming the parameter.
Every list is read in id order, by keyset, so a page costs the same at any depth
and any table size (the primary key serves it).
"""

from flask import Response, current_app, request, url_for

from desafio2 import db
from desafio2.errors import ApiError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_ID = 2**31 - 1  # ids are PostgreSQL integers
PAGE_PARAMETERS = {"after": "integer", "limit": "integer"}
# RFC 3339 with all six fractional digits, as usuarios.row_to_dict writes it too, so
# a user reads the same string from POST and from the list.
ISO_8601 = """to_char(data_criacao AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""


def prepared(name: str, parameters: dict[str, str], sql: str) -> tuple[str, str]:
    """`sql` takes $1, $2, ... in the order of `parameters` (name: type). Returns the
    PREPARE that db.py runs on each new connection (planning the lists and the insert
    took PostgreSQL longer than running them, bench/README.md), and the EXECUTE that
    runs it with psycopg2's %(name)s parameters."""
    prepare = f"PREPARE {name} ({', '.join(parameters.values())}) AS {sql}"
    execute = f"EXECUTE {name} ({', '.join(f'%({p})s' for p in parameters)})"
    return prepare, execute


def json_page(table: str, columns: str) -> str:
    """One page ($1: after, $2: limit) as (JSON array text, last id, whether a next page exists).

    PostgreSQL writes the JSON: turning rows into Python objects and back to
    JSON was the largest cost of a list request (bench/README.md). Whether a
    next page exists is one probe of the primary key past the last id: min()
    makes that an index probe, where EXISTS let the planner pick a scan of the
    table that reads most of it behind a deep page.
    """
    return f"""
        SELECT '[' || coalesce(string_agg(row_to_json(page)::text, ',' ORDER BY page.id), '') || ']',
               max(page.id),
               (SELECT min(id) FROM {table} WHERE id > max(page.id)) IS NOT NULL
        FROM (
            SELECT {columns}, {ISO_8601} AS data_criacao FROM {table}
            WHERE id > $1 ORDER BY id LIMIT $2
        ) AS page
    """


def _int_param(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # The length check first: int() refuses strings of thousands of digits with a ValueError.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10) or not low <= int(raw) <= high:
        raise ApiError("not_a_whole_number", name, low=low, high=high)
    return int(raw)


def page_params() -> dict:
    return {
        "limit": _int_param("limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        "after": _int_param("after", 0, 0, MAX_ID),
    }


def add_next_link(response: Response, endpoint: str, limit: int, last_id: int) -> None:
    next_url = url_for(endpoint, limit=limit, after=last_id, _external=True)
    response.headers["Link"] = f'<{next_url}>; rel="next"'


def paginated_list(endpoint: str, query: str):
    """`query` (a json_page EXECUTE) returns the page as JSON text: it goes out as it came."""
    params = page_params()
    with db.autocommit() as cursor:
        cursor.execute(query, params)
        body, last_id, has_next = cursor.fetchone()
    response = current_app.response_class(body, mimetype="application/json")
    if has_next:
        add_next_link(response, endpoint, params["limit"], last_id)
    return response
