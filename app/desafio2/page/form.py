"""POST /, the page's form: form-encoded nome and email, checked by the API's
own rules (usuarios.new_usuario) and written by its own INSERT
(usuarios.insert_usuario). A mistake re-renders the page with its message next
to the field and the typed values kept (400 or 409); success redirects to `/`
(303, Post/Redirect/Get), so reloading never posts twice."""

from flask import redirect, request, url_for

from desafio2 import db
from desafio2.errors import ApiError
from desafio2.page import render, security
from desafio2.page.messages import message
from desafio2.schema import NOVO_USUARIO
from desafio2.usuarios import insert_usuario, new_usuario


def submit():
    if security.cross_origin():
        return render.error_page(403, message("cross_origin"))
    # Only nome and email: the API's rejection of unknown fields is for JSON
    # clients, and a form may carry other inputs (a submit button's name).
    values = {f.name: request.form[f.name] for f in NOVO_USUARIO if f.name in request.form}
    try:
        insert_usuario(new_usuario(values))
    except ApiError as error:
        wrong = message(error.code, error.field, **error.params)
        return render.page(error.status, values, {error.field or "form": wrong})
    except db.UNAVAILABLE:
        return render.page(503, values, {"form": message("database_unavailable")})
    return redirect(url_for("page.index"), 303)
