"""The stack's life on a real engine: the seed's walk-through, then what survives.

Issue #3's scenarios 1 to 4, in order, on a stack of this module's own: the
walk-through needs a fresh database, which the session's live_stack cannot
promise once other tests have used it. Each test leaves the stack up, and each
takes its "before" from the stack as it finds it, so any one of them also runs
alone.
"""

import docker.errors
import pytest

from testing.figures import ANA, SEED_LOGS, SEED_USUARIOS
from testing.live import ROLES, wait_until

pytestmark = pytest.mark.e2e

# What the postgres image's entrypoint prints when it runs the seed, i.e. on an empty volume.
INIT_SQL_RUNS = "running /docker-entrypoint-initdb.d/init.sql"


@pytest.fixture(scope="module")
def stack(stack_factory):
    stack = stack_factory.make()
    yield stack
    stack.purge()


def read(stack, path: str) -> list[dict]:
    response = stack.get(path, params={"limit": 1000})
    assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
    return response.json()


def with_ana(stack) -> list[dict]:
    """The usuarios once Ana Costa is among them (the walk-through adds her)."""
    if not any(u["email"] == ANA["email"] for u in read(stack, "/usuarios")):
        assert stack.post("/usuarios", json=ANA).status_code == 201
    return read(stack, "/usuarios")


def assert_logs_kept(before: list[dict], after: list[dict]) -> None:
    # The app may add rows of its own at each start; none of the old ones may change.
    assert after[: len(before)] == before


def test_seed_walkthrough(stack):
    seed = read(stack, "/usuarios")
    assert [(u["nome"], u["email"]) for u in seed] == SEED_USUARIOS

    created = stack.post("/usuarios", json=ANA)
    assert created.status_code == 201, created.text
    ana = created.json()
    assert (ana["nome"], ana["email"]) == (ANA["nome"], ANA["email"])

    usuarios = read(stack, "/usuarios")
    assert len(usuarios) == 4
    assert usuarios == [*seed, ana]

    creation = [entry for entry in read(stack, "/logs") if entry["usuario_id"] == ana["id"]]
    assert len(creation) == 1
    assert "Ana Costa" in creation[0]["mensagem"]

    status = stack.get("/status")
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "ok"
    assert status.json()["database"] == "ok"
    assert status.json()["usuarios"] == 4
    assert status.json()["volume"] == stack.config.volume_name

    # The reader reads over the stack's network, by the app's alias: its log
    # shows successful reads of all three endpoints, the new user included.
    expected = [
        "GET /status status=200",
        "GET /usuarios status=200 count=4",
        "GET /logs status=200",
    ]
    wait_until(
        lambda: all(line in stack.logs("reader") for line in expected),
        timeout=30,
        what=f"the reader to log {expected}",
    )


def test_data_survives_destroy_and_up(stack):
    before = with_ana(stack)
    logs_before = read(stack, "/logs")

    stack.destroy()

    assert stack.volume() is not None, "destroy removed the retained volume"
    for role in ROLES:
        with pytest.raises(docker.errors.NotFound):
            stack.container(role)
    assert stack.network() is None
    # The data's volume, and the migrator's backups beside it.
    assert stack.leftovers() == [stack.config.volume_name, f"{stack.config.volume_name}_backups"]

    stack.up()

    after = read(stack, "/usuarios")
    assert len(after) == 4
    assert after == before  # same ids, names, emails and data_criacao
    assert_logs_kept(logs_before, read(stack, "/logs"))
    assert INIT_SQL_RUNS not in stack.logs("db"), "init.sql ran again on a database with data"


def test_recreating_only_the_database_container_keeps_every_row(stack):
    before = with_ana(stack)
    logs_before = read(stack, "/logs")
    app_id = stack.container("app").id

    # The Pulumi way: `pulumi up --replace` of the database container alone.
    old_db_id = stack.container("db").id
    stack.replace("db")
    assert stack.container("db").id != old_db_id
    stack.wait_for("/status")
    assert read(stack, "/usuarios") == before
    assert_logs_kept(logs_before, read(stack, "/logs"))

    # And behind Pulumi's back: the container removed by hand, then `up` makes it again.
    old_db_id = stack.container("db").id
    stack.container("db").remove(force=True)
    stack.up()
    assert stack.container("db").id != old_db_id
    stack.wait_for("/status")
    assert read(stack, "/usuarios") == before
    assert_logs_kept(logs_before, read(stack, "/logs"))

    assert stack.container("app").id == app_id, "only the database container was to be recreated"
    assert INIT_SQL_RUNS not in stack.logs("db")


def test_deliberate_deletion_gives_a_fresh_seeded_database(stack):
    old_logs = {(entry["id"], entry["data_criacao"]) for entry in read(stack, "/logs")}

    # The documented way to delete the data: retainVolume=false, up, destroy.
    stack.up(retainVolume=False)
    stack.destroy()
    assert stack.volume() is None, "destroy kept the volume although retainVolume=false"
    assert stack.leftovers() == []

    stack.up(retainVolume=True)

    usuarios = read(stack, "/usuarios")
    assert [(u["id"], u["nome"], u["email"]) for u in usuarios] == [
        (i, nome, email) for i, (nome, email) in enumerate(SEED_USUARIOS, start=1)
    ]
    logs = read(stack, "/logs")
    assert [(entry["acao"], entry["mensagem"]) for entry in logs[:2]] == SEED_LOGS
    assert not [entry for entry in logs if entry["usuario_id"] is not None]
    assert not old_logs & {(entry["id"], entry["data_criacao"]) for entry in logs}
    assert stack.logs("db").count(INIT_SQL_RUNS) == 1
