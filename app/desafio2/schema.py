"""The API's shapes, defined once: the usuario a client sends, the error body,
and what the lists and /status answer.

usuarios.new_usuario checks a new usuario against NOVO_USUARIO, openapi.py describes
every shape here in /openapi.json, errors.py writes its bodies with
error_body(), and the page's form takes its inputs and limits from
NOVO_USUARIO. tests/api/test_schema_agreement.py fails if the document and
the checks disagree.

The project's own definitions rather than pydantic or marshmallow: the API
answers the first problem of a request, in a fixed order (unknown fields, then
nome, then email), and each hostile input with its own message
(tests/api/test_hostile_input.py); either library reports every problem at
once in its own terms, so keeping those answers needed a mapping as long as
the validation itself, and one more dependency in the offline-built image.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class TextField:
    """A required string, trimmed before it is checked (usuarios.new_usuario)."""

    name: str
    max_length: int
    min_length: int
    example: str
    format: str | None = None

    def json_schema(self) -> dict:
        schema = {"type": "string", "minLength": self.min_length, "maxLength": self.max_length}
        if self.format:
            schema["format"] = self.format
        return {**schema, "example": self.example}


NOME = TextField("nome", max_length=100, min_length=1, example="Ana Pereira")
# min_length: the shortest address usuarios.EMAIL_PATTERN takes, a@b.c.
EMAIL = TextField("email", max_length=254, min_length=5, example="ana@example.com", format="email")
# Every field is required and no other is accepted.
NOVO_USUARIO = (NOME, EMAIL)

NOVO_USUARIO_RULES = (
    "Surrounding whitespace is trimmed before the checks. Control characters are "
    "rejected. Any other field is rejected (400 naming it), so a typo such as "
    '"e-mail" is never silently dropped. Emails are unique whatever their case '
    "(409), and stored as sent."
)


def novo_usuario_schema() -> dict:
    return {
        "type": "object",
        "description": NOVO_USUARIO_RULES,
        "additionalProperties": False,
        "required": [field.name for field in NOVO_USUARIO],
        "properties": {field.name: field.json_schema() for field in NOVO_USUARIO},
    }


def error_body(message: str, field: str | None = None) -> dict:
    """Every error's JSON body; gunicorn's own refusals too (errors.py)."""
    return {"error": message} if field is None else {"error": message, "field": field}


ERROR = {
    "type": "object",
    "additionalProperties": False,
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "minLength": 1, "description": "what went wrong"},
        "field": {"type": "string", "description": "the input to blame, when there is one"},
    },
}

# What the database returns, as the areas' SQL writes it: no check, only described.
_ID = {"type": "integer", "minimum": 1}
_DATE = {"type": "string", "format": "date-time"}


def _record(properties: dict) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(properties),
        "properties": properties,
    }


USUARIO = _record(
    {
        "id": _ID,
        "nome": {"type": "string", "minLength": 1, "maxLength": NOME.max_length},
        # Rows older than the API's checks hold what the CHECK of db/migrations/0002 takes (_%@_%).
        "email": {"type": "string", "minLength": 3, "maxLength": EMAIL.max_length},
        "data_criacao": _DATE,
    }
)
LOG = _record(
    {
        "id": _ID,
        "acao": {"type": "string", "description": "the kind of event, e.g. usuario_criado"},
        "mensagem": {"type": "string"},
        "usuario_id": {"type": "integer", "nullable": True},
        "data_criacao": _DATE,
    }
)
STATUS = _record(
    {
        "status": {"type": "string", "enum": ["ok", "degraded"]},
        "database": {"type": "string", "enum": ["ok", "unavailable"]},
        "usuarios": {"type": "integer", "minimum": 0, "nullable": True},
        "logs": {"type": "integer", "minimum": 0, "nullable": True},
        "volume": {"type": "string", "nullable": True},
        "version": {"type": "string"},
    }
)
