"""The page at `/`: persistence at a glance, in Portuguese, server-rendered.

GET shows the users, the latest logs, the timeline of the app's starts
(desafio2/startup.py writes one row per container start) and the stack's health
(data.py, render.py); POST is the form (form.py). The browser's side of its
safety is security.py, its words messages.py.
"""

from flask import Blueprint
from werkzeug.exceptions import HTTPException

from desafio2.errors import HTTP_CODES
from desafio2.page import form, render, security
from desafio2.page.messages import MESSAGES

bp = Blueprint("page", __name__, template_folder="templates")
bp.before_request(security.make_nonce)
bp.after_request(security.add_headers)
bp.add_app_template_filter(render.date_and_time, "date_and_time")
bp.add_app_template_filter(render.iso, "iso")


@bp.get("/")
def index():
    return render.page(200)


@bp.post("/")
def create_from_form():
    return form.submit()


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    # The page's own failures (a 413 on a huge form, say) are pages too;
    # API routes keep their JSON errors (errors.py).
    response = error.get_response()
    body, status = render.error_page(
        error.code or 500, MESSAGES.get(HTTP_CODES.get(error.code), error.name)
    )
    response.set_data(body)
    response.status_code = status
    response.content_type = "text/html; charset=utf-8"
    return response
