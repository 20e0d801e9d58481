"""The row counts GET /status reports come from contagens (db/migrations/0004_contagens.sql),
kept by triggers; whatever writes the tables, they must equal count(*)."""

import pytest


def status_counts(client) -> tuple[int, int]:
    body = client.get("/status").get_json()
    return body["usuarios"], body["logs"]


def test_counts_follow_posts(client, rows):
    for n in range(5):
        client.post("/usuarios", json={"nome": f"U{n}", "email": f"u{n}@example.com"})
    assert status_counts(client) == rows.counts() == (8, 7)


def test_a_rejected_post_changes_no_count(client, rows):
    client.post("/usuarios", json={"nome": "Dup", "email": "joao@example.com"})  # 409
    assert status_counts(client) == rows.counts() == (3, 2)


@pytest.mark.parametrize(
    "statements",
    [
        pytest.param(
            [
                "INSERT INTO usuarios (nome, email) "
                "SELECT 'N' || i, 'n' || i || '@example.com' FROM generate_series(1, 500) i"
            ],
            id="bulk-insert",
        ),
        pytest.param(
            ["COPY usuarios (nome, email) FROM PROGRAM 'printf \"A\\ta@example.com\\n\"'"],
            id="copy",
        ),
        pytest.param(["DELETE FROM logs WHERE usuario_id IS NULL"], id="delete"),
        pytest.param(["TRUNCATE logs"], id="truncate"),
        pytest.param(["TRUNCATE usuarios CASCADE"], id="truncate-cascade"),
        pytest.param(
            [
                "BEGIN",
                "INSERT INTO usuarios (nome, email) VALUES ('X', 'x@example.com')",
                "ROLLBACK",
            ],
            id="rolled-back",
        ),
    ],
)
def test_counts_follow_any_write(client, rows, statements):
    with rows.connection() as cursor:
        for statement in statements:
            cursor.execute(statement)
    assert status_counts(client) == rows.counts()
