"""Keyset pagination of GET /usuarios and GET /logs (issue #5): ?limit and
?after, the Link rel="next" header, 400 on bad parameters, and the index that
serves the order."""

import re
from urllib.parse import urlsplit

import pytest

from desafio2 import db, logs, usuarios
from desafio2.pagination import DEFAULT_LIMIT, MAX_LIMIT

LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')
# db/migrations/0001 seeds 3 users and 2 logs.
SEED_USERS, SEED_LOGS = 3, 2


def add_users(rows, count: int) -> None:
    """`count` more users, each with its creation log, in one statement per table."""
    with rows.connection() as cursor:
        cursor.execute(
            "INSERT INTO usuarios (nome, email) "
            "SELECT 'Página ' || i, 'pagina' || i || '@example.com' FROM generate_series(1, %s) i",
            (count,),
        )
        cursor.execute(
            "INSERT INTO logs (acao, mensagem, usuario_id) "
            "SELECT 'usuario_criado', 'Usuário criado: ' || nome, id FROM usuarios "
            "WHERE email LIKE 'pagina%%'"
        )


def next_link(response) -> str | None:
    """The path and query of the next page, checked to be an absolute URL."""
    header = response.headers.get("Link")
    if header is None:
        return None
    match = LINK.match(header)
    assert match, header
    url = urlsplit(match["url"])
    assert (url.scheme, url.netloc) == ("http", "localhost")
    return f"{url.path}?{url.query}"


def walk(client, first: str) -> tuple[list[int], int]:
    """Follows Link from `first` to the last page; returns every id seen and the page count."""
    ids, pages, url = [], 0, first
    while url is not None:
        assert pages < 1000, "Link never ended"
        response = client.get(url)
        assert response.status_code == 200
        ids += [item["id"] for item in response.get_json()]
        pages += 1
        url = next_link(response)
    return ids, pages


@pytest.mark.parametrize(
    ("path", "table", "seeded"),
    [("/usuarios", "usuarios", SEED_USERS), ("/logs", "logs", SEED_LOGS)],
)
def test_walking_every_page_by_link_sees_each_row_once_in_id_order(
    client, rows, path, table, seeded
):
    add_users(rows, 40)
    expected = [row[0] for row in rows.query(f"SELECT id FROM {table} ORDER BY id")]
    ids, pages = walk(client, f"{path}?limit=7")
    assert ids == expected  # no gap, no duplicate, in order
    assert pages == -(-(40 + seeded) // 7)


def test_default_page_is_documented_size_with_a_link_to_the_next(client, rows):
    add_users(rows, DEFAULT_LIMIT)
    response = client.get("/usuarios")
    body = response.get_json()
    assert isinstance(body, list) and len(body) == DEFAULT_LIMIT
    assert next_link(response) == f"/usuarios?limit={DEFAULT_LIMIT}&after={body[-1]['id']}"


def test_a_full_last_page_has_no_link(client, rows):
    add_users(rows, 10 - SEED_USERS)
    response = client.get("/usuarios?limit=5&after=5")
    assert len(response.get_json()) == 5
    assert "Link" not in response.headers


def test_a_small_table_is_one_page_without_link(client):
    response = client.get("/usuarios")
    assert len(response.get_json()) == SEED_USERS
    assert "Link" not in response.headers


def test_after_the_last_id_is_an_empty_array(client):
    response = client.get("/usuarios?after=2147483647")
    assert (response.status_code, response.get_json()) == (200, [])
    assert "Link" not in response.headers


def test_the_largest_limit_is_accepted(client, rows):
    add_users(rows, MAX_LIMIT)
    response = client.get(f"/usuarios?limit={MAX_LIMIT}")
    assert len(response.get_json()) == MAX_LIMIT
    assert next_link(response) is not None


def test_a_row_added_while_walking_is_seen_once_at_the_end(client, rows):
    add_users(rows, 10)
    first = client.get("/usuarios?limit=6")
    created = client.post("/usuarios", json={"nome": "Nova", "email": "nova@example.com"})
    rest, _ = walk(client, next_link(first))
    ids = [u["id"] for u in first.get_json()] + rest
    assert len(ids) == len(set(ids)) == SEED_USERS + 10 + 1
    assert ids[-1] == created.get_json()["id"]


def test_list_and_post_write_the_same_timestamp(client):
    created = client.post("/usuarios", json={"nome": "Ana", "email": "ana@example.com"})
    listed = client.get(f"/usuarios?after={created.get_json()['id'] - 1}").get_json()
    assert listed == [created.get_json()]


BAD_PARAMETERS = [
    ("limit=0", "limit"),
    (f"limit={MAX_LIMIT + 1}", "limit"),
    ("limit=-1", "limit"),
    ("limit=abc", "limit"),
    ("limit=1.5", "limit"),
    ("limit=", "limit"),
    ("limit=%C2%B2", "limit"),  # a superscript two: a digit to str.isdigit, not a number
    ("limit=" + "9" * 5000, "limit"),  # more digits than int() converts
    ("after=-1", "after"),
    ("after=x", "after"),
    ("after=2147483648", "after"),  # beyond PostgreSQL's integer ids
    ("limit=10&after=1e3", "after"),
]


@pytest.mark.parametrize("path", ["/usuarios", "/logs"])
@pytest.mark.parametrize(("query", "field"), BAD_PARAMETERS)
def test_bad_parameters_are_400_in_json_naming_the_parameter(client, path, query, field):
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.is_json
    assert response.get_json()["field"] == field
    assert "whole number" in response.get_json()["error"]


@pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
@pytest.mark.parametrize("statement", ["list_usuarios", "list_logs"])
def test_the_primary_key_serves_the_order(rows, plan_cache_mode, statement):
    # Enough rows that reading the table and sorting would be the planner's choice without the index.
    add_users(rows, 20000)
    prepare = next(
        sql
        for sql in (*usuarios.PREPARED, *logs.PREPARED)
        if sql.startswith(f"PREPARE {statement} ")
    )
    with rows.connection() as cursor:
        cursor.execute("ANALYZE usuarios, logs")
        cursor.execute(f"SET plan_cache_mode = {plan_cache_mode}")
        cursor.execute(prepare)
        cursor.execute(f"EXPLAIN EXECUTE {statement} (5000, 50)")
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert re.search(r"Index (Only )?Scan using (usuarios|logs)_pkey", plan), plan
    assert "Seq Scan" not in plan and "Sort" not in plan, plan


def test_the_app_plans_a_page_once_per_connection_not_per_request(app, rows):
    # Past about 100,000 rows PostgreSQL would otherwise re-plan each execution
    # (custom plans); db.SESSION_SETUP keeps the generic one.
    add_users(rows, 20000)
    with rows.connection() as cursor:
        cursor.execute("ANALYZE usuarios")
    with app.app_context(), db.autocommit() as cursor:
        for after in range(0, 20000, 1000):
            cursor.execute(usuarios.LIST_USUARIOS, {"after": after, "limit": 50})
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE name = 'list_usuarios'"
        )
        generic, custom = cursor.fetchone()
    assert (generic, custom) == (20, 0)
