"""The page's words: its own, and the API's error codes (errors.ENGLISH) in
Portuguese, filled with the same parameters. Never a translation of the
English text: a reworded English message changes nothing here."""

MESSAGES = {
    "required": "{field}: campo obrigatório",
    "empty": "{field}: não pode ficar em branco",
    "too_long": "{field}: no máximo {max_length} caracteres",
    "control_characters": "{field}: não pode conter caracteres de controle",
    "email_invalid": "email: endereço inválido (esperado nome@dominio.tld)",
    "email_taken": "email: {email} já está cadastrado",
    "database_unavailable": "o banco de dados não respondeu; nada foi gravado, tente de novo",
    "bad_request": "Pedido inválido.",
    "body_too_large": "Pedido grande demais: o formulário aceita só nome e email.",
    "cross_origin": "Formulário enviado por outro site: recusado. Abra esta página e envie por ela.",
}

# The API's codes a POST to the page cannot end in, and why. Every other code
# must have its words above (tests/api/test_page.py).
NOT_FROM_THE_FORM = {
    # The form sends only nome and email, as strings, form-encoded.
    "content_type": "the form is not JSON",
    "body_not_utf8": "the form is not JSON",
    "body_not_json": "the form is not JSON",
    "body_not_object": "the form is not JSON",
    "unknown_fields": "other inputs are ignored (page/form.py)",
    "not_a_string": "form values are strings",
    # Answered before the page's handlers run, as for any route.
    "body_malformed": "a broken chunked body fails while it is read, in JSON",
    "not_a_whole_number": "POST / takes no query",
    "not_found": "a routing error: the route exists",
    "method_not_allowed": "a routing error: the form posts",
}


def message(code: str, field: str | None = None, **params) -> str:
    return MESSAGES[code].format(field=field, **params)
