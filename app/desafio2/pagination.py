"""Keyset pagination: ?limit=N (1 to MAX_LIMIT, default DEFAULT_LIMIT) and
?after=ID (the last id of the previous page), and a Link: rel="next" header
when there is more (the GitHub API's convention). The body stays a plain
array, so clients that read the whole list still get one. Anything else in
limit or after is a 400 naming the parameter."""

from flask import Response, request, url_for

from desafio2.errors import ApiError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_ID = 2**31 - 1  # ids are PostgreSQL integers


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
