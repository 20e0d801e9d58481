"""What a new usuario must look like. Rejections are ApiErrors naming the field.

Decisions (README, "API"): surrounding whitespace is trimmed; fields other
than nome and email are rejected, so a typo such as "e-mail" is never
silently dropped; emails are unique whatever their case, and stored as sent.
"""

import json
import re
import unicodedata
from decimal import Decimal

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from api.errors import ApiError

NOME_MAX = 100
EMAIL_MAX = 254
FIELDS = ("nome", "email")
# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is not checkable here.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def json_object_body() -> dict:
    if not request.is_json:
        raise ApiError(415, "Content-Type must be application/json")
    raw = request.get_data(cache=False)
    # werkzeug refuses a Content-Length over the limit, but cuts a chunked body
    # (no length; the server ends its stream) at the limit instead: one more
    # byte behind it means the client sent too much, and the cut part, which
    # may still parse, must not be stored.
    limit = request.max_content_length
    if (
        request.content_length is None
        and limit is not None
        and len(raw) >= limit
        and request.environ["wsgi.input"].read(1)
    ):
        raise RequestEntityTooLarge()
    try:
        # Decimal: int() refuses numbers of over 4300 digits, and such a number
        # is still JSON, to be reported as the wrong type like any other.
        payload = json.loads(raw.decode("utf-8"), parse_int=Decimal)
    except UnicodeDecodeError:
        raise ApiError(400, "body is not valid UTF-8") from None
    except (ValueError, RecursionError):
        raise ApiError(400, "body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ApiError(400, 'body must be a JSON object such as {"nome": "...", "email": "..."}')
    return payload


def _text_field(payload: dict, name: str, max_length: int) -> str:
    if name not in payload:
        raise ApiError(400, f"{name} is required", field=name)
    value = payload[name]
    if not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string", field=name)
    value = value.strip()
    if not value:
        raise ApiError(400, f"{name} must not be empty", field=name)
    if len(value) > max_length:
        raise ApiError(400, f"{name} must be at most {max_length} characters", field=name)
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ApiError(400, f"{name} must not contain control characters", field=name)
    return value


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def new_usuario(payload: dict) -> dict:
    # Names echoed back escaped: a JSON key may hold a lone surrogate
    # ("\ud800"), which no UTF-8 response can carry.
    unknown = sorted(_printable(name) for name in set(payload) - set(FIELDS))
    if unknown:
        raise ApiError(
            400,
            f"unknown field(s): {', '.join(unknown)}; send only nome and email",
            field=unknown[0],
        )
    nome = _text_field(payload, "nome", NOME_MAX)
    email = _text_field(payload, "email", EMAIL_MAX)
    if not EMAIL_PATTERN.fullmatch(email):
        raise ApiError(
            400, "email is not a valid address (expected name@domain.tld)", field="email"
        )
    return {"nome": nome, "email": email}
