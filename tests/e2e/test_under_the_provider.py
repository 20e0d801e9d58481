"""The stack under pulumi-docker's own rules, on the engine the tests use (Docker 20.10).

What a user of `make up` gets from the real provider: every container created
on an engine older than API 1.44, a second up that changes nothing, a config
change that reaches the running containers, a volume made by docker compose
adopted without a replacement, and an up that brings back what was removed or
stopped by hand. The harness (testing/harness/) plays the provider; each
behaviour here is one it follows from the provider's source.
"""

import pytest

from testing.harness import project_refreshes
from testing.live import ROLES, StackError
from testing.project import PROJECT_ROOT, app_with_a_new_step, containers_made

pytestmark = pytest.mark.e2e

RESOURCES = [
    "rede",
    "dados-postgres",
    "backups-postgres",
    "postgres-image",
    "db-postgres",
    "app-image",
    "db-migracoes",
    "app-flask",
    "curl-image",
    "leitor-dados",
]
# The compose project of the original Desafio 2 gives its volume these labels.
COMPOSE_LABELS = {
    "com.docker.compose.project": "desafio2",
    "com.docker.compose.volume": "dados_postgres",
    "com.docker.compose.version": "1.29.2",
}


def api_version(stack) -> tuple[int, ...]:
    return tuple(int(part) for part in stack.docker.api.api_version.split("."))


def test_up_creates_every_container_on_this_engine(live_stack):
    # The floor the stack supports is Docker 20.10 (API 1.41), the engine here.
    assert api_version(live_stack) < (1, 44)
    states = {role: live_stack.container(role).attrs["State"] for role in ROLES}
    assert {role: state["Status"] for role, state in states.items()} == dict.fromkeys(
        ROLES, "running"
    )
    assert [states[r]["Health"]["Status"] for r in ("db", "migrator", "app")] == ["healthy"] * 3


def test_a_second_up_with_nothing_changed_plans_no_change(make_stack):
    stack = make_stack()
    stack.up()
    assert stack.steps == dict.fromkeys(RESOURCES, "same")


def test_a_new_health_check_interval_reaches_the_running_containers(make_stack):
    stack = make_stack()
    stack.post("/usuarios", json={"nome": "Antes", "email": "antes@example.com"})
    stack.up(healthcheckIntervalSeconds=2)
    changed = {n: op for n, op in stack.steps.items() if op != "same"}
    assert changed == {"db-postgres": "replace", "db-migracoes": "replace", "app-flask": "replace"}
    intervals = [
        stack.container(r).attrs["Config"]["Healthcheck"]["Interval"]
        for r in ("db", "migrator", "app")
    ]
    assert intervals == [2 * 10**9] * 3
    assert "antes@example.com" in {u["email"] for u in stack.get("/usuarios").json()}


def test_a_volume_made_by_docker_compose_is_adopted_without_a_replacement(make_stack):
    stack = make_stack(up=False)
    stack.docker.volumes.create(name=stack.config.volume_name, labels=COMPOSE_LABELS)
    stack.up()  # adopts the empty volume: the database initialises it
    stack.post("/usuarios", json={"nome": "Compose", "email": "compose@example.com"})
    rows = stack.psql("SELECT id, email FROM usuarios ORDER BY id")
    stack.destroy()
    stack.up()  # adopts it again, now holding data
    assert stack.steps["dados-postgres"] == "create"

    stack.up()
    assert stack.steps == dict.fromkeys(RESOURCES, "same")
    assert stack.psql("SELECT id, email FROM usuarios ORDER BY id") == rows
    assert stack.volume().attrs["Labels"] == COMPOSE_LABELS


def test_a_start_interval_is_refused_by_an_engine_older_than_docker_25(make_stack):
    stack = make_stack(up=False, healthcheckStartIntervalSeconds=1)
    if api_version(stack) >= (1, 44):
        pytest.skip("this engine speaks API 1.44 or newer: it accepts a start interval")
    with pytest.raises(StackError, match='"specify health-check start interval" requires API'):
        stack.up()
    assert [
        c.name for c in stack.docker.containers.list(all=True, filters={"name": stack.prefix})
    ] == []


def test_up_brings_back_a_container_removed_by_hand(make_stack):
    assert project_refreshes(), "Pulumi.yaml must say `options: refresh: always`"
    stack = make_stack()
    stack.container("reader").remove(force=True)
    stack.up()
    assert stack.steps["leitor-dados"] == "create"
    assert stack.container("reader").status == "running"


def test_up_starts_a_stopped_container_and_replaces_one_whose_ports_read_back_empty(make_stack):
    stack = make_stack()
    reader_id, app_id = stack.container("reader").id, stack.container("app").id
    stack.container("reader").stop()
    stack.container("app").stop()
    stack.up()
    # A stopped container must run again: the provider starts the same one, but an
    # exited container reads back no published ports, and ports force a replacement.
    assert (stack.steps["leitor-dados"], stack.steps["app-flask"]) == (
        "update",
        "replace",
    )
    assert stack.container("reader").id == reader_id
    assert stack.container("app").id != app_id
    stack.wait_for("/status")


def test_a_build_with_a_step_not_in_cache_leaves_no_container_behind(make_stack, tmp_path):
    stack = make_stack()
    changed = app_with_a_new_step(tmp_path)
    try:
        stack.build_from(changed)
        with containers_made(stack.docker) as made:
            stack.up()
    finally:
        stack.build_from(PROJECT_ROOT)
    assert (stack.steps["app-image"], stack.steps["app-flask"]) == (
        "update",
        "replace",
    )
    # The replaced app's container is the stack's own; any other one is the build's.
    assert [c.name for c in made if not c.name.startswith(stack.prefix)] == []
