"""The hostile requests of test_hostile_input.py, as tables: CASES, answered by the
app (each rejected with its 4xx, naming the problem), and PROTOCOL, raw HTTP that
gunicorn refuses before the app sees it (desafio2/errors.py makes the answer JSON).
docs/reliability.md counts both (tests/suite/test_reliability_figures.py)."""

import dataclasses
import json

import pytest

from desafio2 import MAX_BODY_BYTES

JSON = "application/json"
VALID = {"nome": "Ana Costa", "email": "ana@example.com"}
MISSING = object()


@dataclasses.dataclass(frozen=True)
class Req:
    method: str
    path: str
    body: bytes | None = None
    content_type: str | None = None
    # Sent without Content-Length, as Transfer-Encoding: chunked is.
    chunked: bool = False


@dataclasses.dataclass(frozen=True)
class Rejected:
    status: int
    names: str  # what the error message must mention
    field: str | None = None


def encode(value) -> bytes:
    # ASCII-escaped, so a lone surrogate can travel as the \ud800 a client would send.
    return json.dumps(value).encode()


def post(body: bytes, content_type: str | None = JSON, chunked: bool = False) -> Req:
    return Req("POST", "/usuarios", body, content_type, chunked)


def usuario(**changes) -> Req:
    fields = {**VALID, **changes}
    return post(encode({k: v for k, v in fields.items() if v is not MISSING}))


def case(req: Req, status: int, names: str, field: str | None = None, *, id: str):
    return pytest.param(req, Rejected(status, names, field), id=id)


def bad_field(field: str, value, names: str, status: int = 400, *, id: str):
    return case(usuario(**{field: value}), status, names, field, id=id)


def bad_query(path: str, query: str, field: str, *, id: str):
    return case(Req("GET", f"{path}?{query}"), 400, field, field, id=id)


def wrong_method(method: str, path: str):
    return case(Req(method, path), 405, "method not allowed", id=f"{method}-{path}")


def unknown_route(path: str, *, id: str):
    return case(Req("GET", path), 404, "not found", id=id)


OVERSIZED = encode({**VALID, "nome": "a" * MAX_BODY_BYTES})

CASES = [
    # Content-Type
    case(post(encode(VALID), None), 415, "Content-Type", id="no-content-type"),
    case(post(encode(VALID), "text/plain"), 415, "Content-Type", id="text-plain"),
    case(
        post(b"nome=Ana&email=ana%40example.com", "application/x-www-form-urlencoded"),
        415,
        "Content-Type",
        id="form-urlencoded",
    ),
    case(
        post(b"--x\r\n\r\nAna\r\n--x--", "multipart/form-data; boundary=x"),
        415,
        "Content-Type",
        id="multipart",
    ),
    case(post(b"<nome>Ana</nome>", "application/xml"), 415, "Content-Type", id="xml"),
    case(post(encode(VALID), "text/json"), 415, "Content-Type", id="text-json"),
    # Encoding and syntax
    case(post(b'{"nome": "\xff\xfe", "email": "a@b.co"}'), 400, "UTF-8", id="invalid-utf8"),
    case(post('{"nome": "João", "email": "a@b.co"}'.encode("latin-1")), 400, "UTF-8", id="latin1"),
    case(post(b'{"nome": "\xc0\xaf", "email": "a@b.co"}'), 400, "UTF-8", id="overlong-utf8"),
    case(post(json.dumps(VALID).encode("utf-16")), 400, "UTF-8", id="utf16-with-bom"),
    case(post(b"\xef\xbb\xbf" + encode(VALID)), 400, "JSON", id="utf8-bom"),
    case(post(b""), 400, "JSON", id="empty-body"),
    case(post(b"{'nome': 'Ana', 'email': 'ana@example.com'}"), 400, "JSON", id="single-quotes"),
    case(post(encode(VALID) + b" x"), 400, "JSON", id="trailing-garbage"),
    case(post(b"[" * 8000 + b"]" * 8000), 400, "JSON", id="nested-8000-deep"),
    # Not an object
    case(post(b"null"), 400, "JSON object", id="body-null"),
    case(post(b"42"), 400, "JSON object", id="body-number"),
    case(post(b"true"), 400, "JSON object", id="body-boolean"),
    case(post(encode([VALID])), 400, "JSON object", id="body-list-of-usuarios"),
    # Wrong types where strings belong
    bad_field("nome", None, "nome must be a string", id="nome-null"),
    bad_field("nome", 3.14, "nome must be a string", id="nome-float"),
    bad_field("nome", True, "nome must be a string", id="nome-boolean"),
    bad_field("nome", ["Ana"], "nome must be a string", id="nome-list"),
    bad_field("nome", {"primeiro": "Ana"}, "nome must be a string", id="nome-object"),
    case(
        post(b'{"nome": NaN, "email": "ana@example.com"}'),
        400,
        "nome must be a string",
        "nome",
        id="nome-nan",
    ),
    case(
        post(b'{"nome": ' + b"9" * 5000 + b', "email": "ana@example.com"}'),
        400,
        "nome must be a string",
        "nome",
        id="nome-5000-digit-number",
    ),
    bad_field("email", 42, "email must be a string", id="email-number"),
    bad_field("email", False, "email must be a string", id="email-boolean"),
    bad_field("email", ["ana@example.com"], "email must be a string", id="email-list"),
    bad_field("email", {"$ne": None}, "email must be a string", id="email-operator-object"),
    # Missing, empty, too long
    case(post(b"{}"), 400, "nome is required", "nome", id="empty-object"),
    case(usuario(email=MISSING), 400, "email is required", "email", id="no-email"),
    bad_field("nome", " \t\r\n ", "nome must not be empty", id="nome-ascii-whitespace"),
    bad_field("nome", "\u00a0\u2003\u3000", "nome must not be empty", id="nome-unicode-spaces"),
    bad_field("email", "\u2028 ", "email must not be empty", id="email-line-separator"),
    bad_field("nome", "é" * 101, "at most 100", id="nome-101-accented"),
    bad_field("nome", "😀" * 101, "at most 100", id="nome-101-emoji"),
    bad_field("email", "a" * 243 + "@example.com", "at most 254", id="email-255"),
    # Control characters
    bad_field("nome", "Ana\u0000", "control characters", id="nome-nul"),
    bad_field("nome", "Ana\nSilva", "control characters", id="nome-inner-newline"),
    bad_field("nome", "\u001b[31mAna", "control characters", id="nome-ansi-escape"),
    bad_field("nome", "Ana\u007f", "control characters", id="nome-del"),
    bad_field("nome", "A\u0085na", "control characters", id="nome-c1-control"),
    bad_field("nome", "Ana\ud800", "control characters", id="nome-lone-surrogate"),
    bad_field(
        "email",
        "ana@example.com\r\nBcc: todos@example.com",
        "control characters",
        id="email-header-injection",
    ),
    # Unknown fields: rejected, so a typo is never silently dropped
    case(usuario(admin=True), 400, "unknown field", "admin", id="extra-admin"),
    case(usuario(id=999), 400, "unknown field", "id", id="extra-id"),
    case(usuario(data_criacao="1970-01-01"), 400, "unknown field", "data_criacao", id="extra-date"),
    case(
        post(encode({"nome": "Ana", "e-mail": "ana@example.com"})),
        400,
        "e-mail",
        "e-mail",
        id="typo-e-mail",
    ),
    case(post(encode({"NOME": "Ana", "email": "ana@example.com"})), 400, "NOME", "NOME", id="NOME"),
    case(usuario(__proto__={"admin": True}), 400, "__proto__", "__proto__", id="extra-proto"),
    case(usuario(**{"\ud800": 1}), 400, "unknown field", "\\ud800", id="extra-lone-surrogate-key"),
    # Invalid emails
    bad_field("email", "ana@@example.com", "valid address", id="email-double-at"),
    bad_field("email", "ana@b@example.com", "valid address", id="email-two-ats"),
    bad_field("email", "@example.com", "valid address", id="email-no-local-part"),
    bad_field("email", "ana@example.com.", "valid address", id="email-trailing-dot"),
    bad_field("email", "ana@.example.com", "valid address", id="email-leading-dot"),
    bad_field("email", "ana@example..com", "valid address", id="email-double-dot"),
    bad_field("email", "ana\u2003@example.com", "valid address", id="email-em-space"),
    bad_field("email", "' OR 1=1 --", "valid address", id="email-sql"),
    bad_field("email", "Ana <ana@example.com>", "valid address", id="email-display-name"),
    # Duplicates, whatever the case (the seed has joao@ and maria@example.com)
    bad_field("email", "JOAO@EXAMPLE.COM", "already registered", 409, id="dup-upper"),
    bad_field("email", "Maria@Example.Com", "already registered", 409, id="dup-mixed-case"),
    bad_field("email", "  joao@example.com\t", "already registered", 409, id="dup-padded"),
    # Size
    case(post(OVERSIZED), 413, "too large", id="over-limit"),
    case(post(OVERSIZED, chunked=True), 413, "too large", id="over-limit-chunked"),
    case(post(OVERSIZED, "text/plain"), 415, "Content-Type", id="over-limit-not-json"),
    # Methods
    wrong_method("PUT", "/usuarios"),
    wrong_method("PATCH", "/usuarios"),
    wrong_method("DELETE", "/usuarios"),
    wrong_method("TRACE", "/usuarios"),
    wrong_method("POST", "/logs"),
    wrong_method("DELETE", "/logs"),
    wrong_method("POST", "/status"),
    wrong_method("PUT", "/openapi.json"),
    # Routes
    unknown_route("/usuarios/1", id="usuario-by-id"),
    unknown_route("/usuarios/", id="trailing-slash"),
    unknown_route("/admin", id="admin"),
    unknown_route("/../../etc/passwd", id="path-traversal"),
    unknown_route("/usuarios;DROP%20TABLE%20usuarios", id="path-sql"),
    unknown_route("/%ff%fe", id="path-invalid-utf8"),
    # Query parameters
    bad_query("/usuarios", "limit=0", "limit", id="limit-0"),
    bad_query("/usuarios", "limit=1001", "limit", id="limit-1001"),
    bad_query("/usuarios", "limit=-1", "limit", id="limit-negative"),
    bad_query("/usuarios", "limit=abc", "limit", id="limit-text"),
    bad_query("/usuarios", "limit=1.5", "limit", id="limit-decimal"),
    bad_query("/usuarios", "limit=1e3", "limit", id="limit-exponent"),
    bad_query("/usuarios", "limit=", "limit", id="limit-empty"),
    bad_query("/usuarios", "limit=%2B5", "limit", id="limit-plus-sign"),
    bad_query("/usuarios", "limit=%205", "limit", id="limit-leading-space"),
    bad_query("/usuarios", "limit=%00", "limit", id="limit-nul"),
    bad_query("/usuarios", "limit=%D9%A3", "limit", id="limit-arabic-digit"),
    bad_query("/usuarios", "limit=" + "9" * 5000, "limit", id="limit-5000-digits"),
    bad_query("/usuarios", "after=-1", "after", id="after-negative"),
    bad_query("/usuarios", "after=2147483648", "after", id="after-over-int4"),
    bad_query("/usuarios", "after=1%20OR%201=1", "after", id="after-sql"),
    bad_query("/logs", "limit=0", "limit", id="logs-limit-0"),
    bad_query("/logs", "limit=0x10", "limit", id="logs-limit-hex"),
    bad_query("/logs", "after=abc", "after", id="logs-after-text"),
    bad_query("/logs", "limit=10&after=1.0", "after", id="logs-after-decimal"),
]


def http(head: str, body: bytes = b"") -> bytes:
    return head.replace("\n", "\r\n").encode("latin-1") + b"\r\n" + body


POST_HEAD = "POST /usuarios HTTP/1.1\nHost: x\nContent-Type: application/json\n"

# Refused by gunicorn before the app sees them (desafio2/errors.py makes the answer JSON).
PROTOCOL = [
    pytest.param(
        http(f"GET /usuarios?limit={'1' * 5000} HTTP/1.1\nHost: x\n"),
        414,
        "uri too long",
        id="request-line-5000-bytes",
    ),
    pytest.param(
        http(f"GET /status HTTP/1.1\nHost: x\nX-Grande: {'a' * 9000}\n"),
        431,
        "header",
        id="header-9000-bytes",
    ),
    pytest.param(
        http("GET /status HTTP/1.1\nHost: x\n" + "".join(f"X-H{i}: 1\n" for i in range(120))),
        431,
        "header",
        id="120-headers",
    ),
    pytest.param(http("HELLO\n"), 400, "request line", id="not-http"),
    pytest.param(http("GET /status HTTP/7.0\nHost: x\n"), 400, "version", id="http-7"),
    pytest.param(
        http("GET /sta\x00tus HTTP/1.1\nHost: x\n"), 400, "request line", id="nul-in-path"
    ),
    pytest.param(b"GET /status HTTP/1.1\nHost: x\n\n", 400, "LF", id="bare-lf"),
    pytest.param(
        http("GET /status HTTP/1.1\nHost: x\nMau Nome: y\n"), 400, "header", id="space-in-name"
    ),
    pytest.param(
        http("GET /status HTTP/1.1\nHost: x\nX-A: a\n b\n"), 400, "folding", id="obs-fold"
    ),
    pytest.param(
        http(POST_HEAD + "Transfer-Encoding: chunked\n", b"zz\r\n{}\r\n0\r\n\r\n"),
        400,
        "malformed",
        id="bad-chunk-size",
    ),
    pytest.param(
        http(POST_HEAD + "Content-Length: 4\nTransfer-Encoding: chunked\n", b"0\r\n\r\n"),
        400,
        "CONTENT-LENGTH",
        id="smuggling-cl-and-te",
    ),
    pytest.param(
        http(POST_HEAD + "Content-Length: 2\nContent-Length: 3\n", b"{}"),
        400,
        "CONTENT-LENGTH",
        id="two-content-lengths",
    ),
    pytest.param(
        http(POST_HEAD + "Content-Length: dois\n", b"{}"),
        400,
        "CONTENT-LENGTH",
        id="cl-not-a-number",
    ),
    pytest.param(
        http(POST_HEAD + "Transfer-Encoding: gzip\n", b"{}"),
        400,
        "TRANSFER-ENCODING",
        id="transfer-encoding-gzip",
    ),
]

# Accepted as sent: names full of SQL metacharacters, stored verbatim and never executed.
SQL_METACHARACTERS = [
    "Robert'); DROP TABLE usuarios;--",
    "' OR '1'='1",
    "1; DELETE FROM logs WHERE true",
    "$$; DROP TABLE logs; $$",
    "%s %(nome)s {0} %% ?",  # driver placeholders, if anything ever formatted SQL by hand
    "\\'; SELECT pg_sleep(10); --",
    'Ana"; TRUNCATE usuarios CASCADE; --',
    "/* */ UNION SELECT * FROM pg_shadow --",
]

# Names in many scripts, which must round-trip byte for byte.
NAMES = [
    pytest.param("José Conceição Müller-Ñúñez", id="latin-accents"),
    pytest.param("Nguyễn Văn Ánh", id="vietnamese"),
    pytest.param("Αλέξανδρος Παπαδόπουλος", id="greek"),
    pytest.param("Анна Каренина", id="cyrillic"),
    pytest.param("محمد الفارسي", id="arabic"),
    pytest.param("דוד בן־גוריון", id="hebrew"),
    pytest.param("देवनागरी नाम", id="devanagari"),
    pytest.param("王小明 山田太郎 김민준", id="cjk"),
    pytest.param("𠜎𠜱𠝹 𝔘𝔫𝔦𝔠𝔬𝔡𝔢", id="astral-plane"),
    pytest.param("สมชาย ใจดี", id="thai"),
    pytest.param("አበበ በቂላ", id="ethiopic"),
    pytest.param("👩‍👩‍👧‍👦 Família 🇧🇷", id="emoji-zwj-flag"),
    pytest.param("Jose\u0301 Ana\u0303o", id="combining-marks-nfd"),
    pytest.param("Z̷̢a̶l̵g̸o̴", id="stacked-combining"),
    pytest.param("\u202eAna\u202c", id="bidi-override"),
    pytest.param("🧑🏽‍💻" * 20, id="exactly-100-code-points"),
]
