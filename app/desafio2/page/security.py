"""The page's defences in the browser.

No JavaScript: the Content-Security-Policy allows none, and styles only with
the nonce of this response. Jinja escapes every value the page shows.

Cross-site requests: the page has no login, but a site the user visits could
still make the browser post the form to 127.0.0.1. The POST is refused unless
it comes from this origin, judged by the headers browsers always send
(Sec-Fetch-Site, else Origin), the way Go's net/http CrossOriginProtection
does. A request with neither header is not from a browser, so it cannot be
forged by another site, and it is accepted like any API call. This needs no
secret, cookie or session, unlike a CSRF token, and the API already accepts
the same write from any client.
"""

import secrets

from flask import g, request


def cross_origin() -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return origin != request.host_url.rstrip("/")


def make_nonce() -> None:
    g.csp_nonce = secrets.token_urlsafe(16)


def add_headers(response):
    nonce = g.get("csp_nonce", "")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
