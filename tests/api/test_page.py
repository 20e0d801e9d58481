"""The page at `/` on a real PostgreSQL built by db/migrations: what it shows,
how it escapes, and the form (inline errors, nothing written on a mistake,
Post/Redirect/Get on success, cross-site posts refused)."""

import re
from html.parser import HTMLParser

import pytest

from desafio2 import create_app, startup
from desafio2.errors import ENGLISH
from desafio2.page.data import LATEST_STARTS
from desafio2.page.messages import MESSAGES, NOT_FROM_THE_FORM
from testing.postgres_server import free_port

NOVO = {"nome": "Ana Costa", "email": "ana@example.com"}


class _Elements(HTMLParser):
    """Text and attributes of every element that has an id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.attrs: dict[str, dict] = {}
        self.text: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []

    def _separate(self):
        # Cells and lines read as separate words, as a browser lays them out.
        for _, element_id in self._open:
            if element_id is not None:
                self.text[element_id] += " "

    def handle_starttag(self, tag, attrs):
        self._separate()
        attrs = dict(attrs)
        if "id" in attrs:
            self.attrs[attrs["id"]] = attrs
            self.text.setdefault(attrs["id"], "")
        if tag not in ("input", "br", "meta", "link"):
            self._open.append((tag, attrs.get("id")))

    def handle_endtag(self, tag):
        self._separate()
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _, element_id in self._open:
            if element_id is not None:
                self.text[element_id] += data


def elements(response) -> _Elements:
    parser = _Elements()
    parser.feed(response.get_data(as_text=True))
    return parser


def text_of(response, element_id: str) -> str:
    return " ".join(elements(response).text[element_id].split())


def post_form(client, data: dict, **headers):
    return client.post("/", data=data, headers=headers)


# --- what the page shows -------------------------------------------------------------


def test_page_is_html_in_portuguese(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert '<html lang="pt-BR">' in response.get_data(as_text=True)
    assert "Adicionar usuário" in response.get_data(as_text=True)


def test_page_lists_the_users_with_the_api_field_names(client):
    response = client.get("/")
    usuarios = text_of(response, "usuarios")
    assert "id nome email data_criacao" in usuarios
    for nome, email in [
        ("João Silva", "joao@example.com"),
        ("Maria Santos", "maria@example.com"),
        ("Pedro Oliveira", "pedro@example.com"),
    ]:
        assert f"{nome} {email}" in usuarios


def test_page_lists_the_latest_logs_newest_first(client):
    logs = text_of(client.get("/"), "logs")
    assert "id acao mensagem usuario_id data_criacao" in logs
    assert logs.index("dados_iniciais") < logs.index("banco_inicializado")


def test_page_shows_the_stack_health(app, client):
    app.config["VOLUME_NAME"] = "dados_postgres"  # settings.py reads VOLUME_NAME once, at start
    response = client.get("/")
    assert text_of(response, "banco") == "no ar"
    assert text_of(response, "volume") == "dados_postgres"
    assert text_of(response, "total-usuarios") == "3"
    assert text_of(response, "total-logs") == "2"
    assert text_of(response, "conteiner") == startup.container_id()


def test_page_shows_only_the_latest_users_when_there_are_many(client, rows, monkeypatch):
    monkeypatch.setattr("desafio2.page.data.USUARIOS_SHOWN", 2)
    response = client.get("/")
    usuarios = text_of(response, "usuarios")
    assert "Mostrando os 2 mais recentes de 3" in usuarios
    assert "João Silva" not in usuarios
    assert usuarios.index("Maria Santos") < usuarios.index("Pedro Oliveira")


def test_page_escapes_every_user_supplied_string(client):
    hostile = {"nome": "<script>alert('nome')</script>", "email": "x<b>@example.com"}
    assert client.post("/usuarios", json=hostile).status_code == 201
    html = client.get("/").get_data(as_text=True)
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#39;nome&#39;)&lt;/script&gt;" in html
    assert "x&lt;b&gt;@example.com" in html  # in the users table and in the log's mensagem


def test_page_escapes_the_typed_values_it_keeps(client):
    response = post_form(client, {"nome": '"><script>x</script>', "email": "not-an-email"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<script>x" not in html
    assert elements(response).attrs["nome"]["value"] == '"><script>x</script>'


def test_page_forbids_scripts_and_foreign_styles(client):
    response = client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    nonce = re.search(r"style-src 'nonce-([^']+)'", policy).group(1)
    assert f'<style nonce="{nonce}">' in response.get_data(as_text=True)
    assert nonce not in client.get("/").headers["Content-Security-Policy"]  # fresh per response
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
    assert "<script" not in response.get_data(as_text=True)


def test_page_says_503_when_the_database_is_down(postgres_server):
    dsn = {
        **postgres_server.app_dsn("aplicacao_template"),
        "port": free_port(),
        "connect_timeout": 1,
    }
    app = create_app({"TESTING": True, "DATABASE": dsn})
    try:
        response = app.test_client().get("/")
    finally:
        app.extensions["db_pool"].close()
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "5"
    assert text_of(response, "banco").startswith("indisponível")


def test_while_the_database_is_down_the_page_reloads_itself_unless_it_keeps_typing(
    postgres_server,
):
    dsn = {
        **postgres_server.app_dsn("aplicacao_template"),
        "port": free_port(),
        "connect_timeout": 1,
    }
    app = create_app({"TESTING": True, "DATABASE": dsn})
    typed = {"nome": "Ana", "email": "ana@example.com"}
    try:
        shown, posted = app.test_client().get("/"), app.test_client().post("/", data=typed)
    finally:
        app.extensions["db_pool"].close()
    refresh = '<meta http-equiv="refresh" content="5">'
    assert refresh in shown.get_data(as_text=True)
    assert "se atualiza sozinha a cada 5 s" in text_of(shown, "banco")
    assert posted.status_code == 503 and refresh not in posted.get_data(as_text=True)
    assert 'value="ana@example.com"' in posted.get_data(as_text=True)


def test_api_routes_keep_their_json_errors(client):
    response = client.get("/nao-existe")
    assert response.status_code == 404 and response.get_json() == {"error": "not found"}


# --- the persistence timeline -----------------------------------------------------------


def test_timeline_lists_every_start_oldest_first_and_marks_this_container(
    client, postgres_server, database
):
    dsn = postgres_server.app_dsn(database)

    def record(container: str) -> None:
        assert startup.record_start_with_retry(dsn, container, 10, log=lambda line: None)

    record("0ldc0nta1ner")
    client.post("/usuarios", json=NOVO)
    record(startup.container_id())
    response = client.get("/")
    starts = [
        element_id for element_id in elements(response).attrs if element_id.startswith("inicio-")
    ]
    assert len(starts) == 2
    old, new = (text_of(response, element_id) for element_id in starts)
    assert "0ldc0nta1ner" in old and "usuários no banco: 3" in old
    assert "este contêiner" not in old
    assert startup.container_id() in new and "este contêiner" in new
    assert "usuários no banco: 4" in new


def test_timeline_says_when_this_container_start_is_not_recorded(client):
    assert "Nenhum início registrado ainda" in text_of(client.get("/"), "linha-do-tempo")


def test_timeline_reads_the_starts_only_not_every_log(rows):
    # The page must cost the same at any number of logs (bench/results.md, GET /).
    with rows.connection() as cursor:
        cursor.execute(
            "INSERT INTO usuarios (nome, email) "
            "SELECT 'U' || i, 'u' || i || '@example.com' FROM generate_series(1, 5000) i"
        )
        cursor.execute(
            "INSERT INTO logs (acao, mensagem, usuario_id) "
            "SELECT 'usuario_criado', 'criado', id FROM usuarios"
        )
        cursor.execute("ANALYZE logs")
        cursor.execute(
            "EXPLAIN (FORMAT JSON) " + LATEST_STARTS,
            {"acao": startup.ACAO, "limit": 50},
        )
        (plan,), *_ = cursor.fetchall()
    scans = []

    def collect(node):
        if node.get("Relation Name") == "logs":
            scans.append((node["Node Type"], node.get("Index Cond")))
        for child in node.get("Plans", []):
            collect(child)

    collect(plan[0]["Plan"])
    assert scans == [("Index Scan", "(usuario_id IS NULL)")]


# --- the form ---------------------------------------------------------------------------


def test_form_adds_the_user_and_redirects_to_the_page(client, rows):
    response = post_form(client, NOVO)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert rows.query("SELECT nome, email FROM usuarios WHERE id = 4") == [tuple(NOVO.values())]
    assert rows.query("SELECT acao, usuario_id FROM logs ORDER BY id DESC LIMIT 1") == [
        ("usuario_criado", 4)
    ]
    assert "Ana Costa ana@example.com" in text_of(client.get("/"), "usuarios")


def test_form_follows_the_api_rules_trimming_included(client, rows):
    post_form(client, {"nome": "  Ana  ", "email": " ana@example.com "})
    assert rows.query("SELECT nome, email FROM usuarios WHERE id = 4") == [
        ("Ana", "ana@example.com")
    ]


def test_form_ignores_fields_other_than_nome_and_email(client):
    assert post_form(client, {**NOVO, "enviar": "Adicionar"}).status_code == 303


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "ana@example.com"}, "nome", "nome: campo obrigatório"),
        ({"nome": "   ", "email": "ana@example.com"}, "nome", "nome: não pode ficar em branco"),
        ({"nome": "A" * 101, "email": "ana@example.com"}, "nome", "nome: no máximo 100 caracteres"),
        (
            {"nome": "Ana\x00", "email": "ana@example.com"},
            "nome",
            "nome: não pode conter caracteres de controle",
        ),
        ({"nome": "Ana"}, "email", "email: campo obrigatório"),
        (
            {"nome": "Ana", "email": "ana@localhost"},
            "email",
            "email: endereço inválido (esperado nome@dominio.tld)",
        ),
        (
            {"nome": "Ana", "email": "a" * 250 + "@x.com"},
            "email",
            "email: no máximo 254 caracteres",
        ),
    ],
)
def test_form_mistake_is_shown_next_to_its_field_in_portuguese(client, rows, data, field, message):
    response = post_form(client, data)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = elements(response)
    assert " ".join(page.text[f"erro-{field}"].split()) == message
    assert page.attrs[field]["aria-invalid"] == "true"
    assert page.attrs[field]["aria-describedby"] == f"erro-{field}"
    assert rows.counts() == (3, 2)


def test_form_keeps_what_was_typed_after_a_mistake(client):
    page = elements(post_form(client, {"nome": "Ana Costa", "email": "ana@"}))
    assert page.attrs["nome"]["value"] == "Ana Costa"
    assert page.attrs["email"]["value"] == "ana@"
    assert "erro-nome" not in page.attrs


def test_form_duplicate_email_is_a_409_inline_and_writes_nothing(client, rows):
    response = post_form(client, {"nome": "Outro João", "email": "JOAO@example.com"})
    assert response.status_code == 409
    assert text_of(response, "erro-email") == "email: JOAO@example.com já está cadastrado"
    assert elements(response).attrs["nome"]["value"] == "Outro João"
    assert rows.counts() == (3, 2)


def test_form_too_large_is_a_413_page(client, rows):
    response = post_form(client, {"nome": "A" * 20_000, "email": "ana@example.com"})
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "Pedido grande demais" in text_of(response, "erro")
    assert rows.counts() == (3, 2)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://localhost:8080"},  # another port of the same host: another origin
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
def test_form_posted_from_another_origin_is_refused(client, rows, headers):
    response = post_form(client, NOVO, **headers)
    assert response.status_code == 403
    assert "outro site" in text_of(response, "erro")
    assert rows.counts() == (3, 2)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://localhost"},  # the test client's own origin
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"},
        {"Sec-Fetch-Site": "none"},  # typed or bookmarked by the user
        {},  # not a browser: like any API client
    ],
)
def test_form_posted_from_this_origin_is_accepted(client, headers):
    assert post_form(client, NOVO, **headers).status_code == 303


def test_every_error_the_form_can_end_in_has_its_portuguese_words():
    assert set(NOT_FROM_THE_FORM) <= set(ENGLISH), "an exclusion names no error code"
    assert set(ENGLISH) - set(NOT_FROM_THE_FORM) <= set(MESSAGES)
