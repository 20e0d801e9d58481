"""GET /logs: what happened, oldest first."""

from datetime import datetime


def test_lists_the_two_seed_logs(client):
    assert [log["acao"] for log in client.get("/logs").get_json()] == [
        "banco_inicializado",
        "dados_iniciais",
    ]


def test_each_log_has_the_documented_fields(client):
    (first, _) = client.get("/logs").get_json()
    assert set(first) == {"id", "acao", "mensagem", "usuario_id", "data_criacao"}
    assert datetime.fromisoformat(first["data_criacao"]).tzinfo is not None


def test_a_created_user_appears_in_the_logs_with_its_id(client):
    created = client.post("/usuarios", json={"nome": "Ana Costa", "email": "ana@example.com"})
    last = client.get("/logs").get_json()[-1]
    assert (last["acao"], last["usuario_id"]) == ("usuario_criado", created.get_json()["id"])
    assert "Ana Costa" in last["mensagem"]


def test_logs_are_in_id_order(client):
    for n in range(3):
        client.post("/usuarios", json={"nome": f"U{n}", "email": f"u{n}@example.com"})
    ids = [log["id"] for log in client.get("/logs").get_json()]
    assert ids == sorted(ids) and len(ids) == 5
