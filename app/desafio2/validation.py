"""What a new usuario must look like (schema.NOVO_USUARIO). A rejection is an
ApiError with its code, naming the field.

Decisions (docs/api.md, "Errors"): surrounding whitespace is trimmed; fields other
than nome and email are rejected, so a typo such as "e-mail" is never
silently dropped; emails are unique whatever their case, and stored as sent.
"""

import re
import unicodedata

from desafio2.errors import ApiError
from desafio2.schema import NOVO_USUARIO, TextField

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is not checkable here.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _text(payload: dict, field: TextField) -> str:
    if field.name not in payload:
        raise ApiError("required", field.name)
    value = payload[field.name]
    if not isinstance(value, str):
        raise ApiError("not_a_string", field.name)
    value = value.strip()
    if not value:
        raise ApiError("empty", field.name)
    if len(value) > field.max_length:
        raise ApiError("too_long", field.name, max_length=field.max_length)
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ApiError("control_characters", field.name)
    if field.format == "email" and not EMAIL_PATTERN.fullmatch(value):
        raise ApiError("email_invalid", field.name)
    return value


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def new_usuario(payload: dict) -> dict:
    # Names echoed back escaped: a JSON key may hold a lone surrogate
    # ("\ud800"), which no UTF-8 response can carry.
    unknown = sorted(_printable(name) for name in set(payload) - {f.name for f in NOVO_USUARIO})
    if unknown:
        raise ApiError("unknown_fields", unknown[0], names=", ".join(unknown))
    return {field.name: _text(payload, field) for field in NOVO_USUARIO}
