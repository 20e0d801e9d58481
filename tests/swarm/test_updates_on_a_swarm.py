"""What an update restarts, on the three-node test swarm (testing/swarm/cluster.py) and
through the balancer stand-in: only the tasks whose template changes. appReplicas
scales without restarting a task, and as many app tasks as nodes is refused before
anything changes; a change to the reader restarts no app or database task; a program
that puts the app's settings back in env restarts the app's tasks on a mere scale.
The figures are printed (`pytest -s`)."""

import time

import pulumi
import pytest

import infra.swarm
from testing.live import wait_until
from testing.preflight import preflight_on_a_swarm
from testing.swarm.stack import (
    Balancer,
    Clients,
    SwarmStack,
    lost_rows,
    read_steadily,
    report,
    write_steadily,
)

ROLES = ("db", "migrator", "app", "reader")


@pytest.fixture(scope="module")
def stack(swarm_cluster, stack_factory):
    stack = SwarmStack(swarm_cluster, f"{stack_factory.prefix}up-")
    try:
        stack.up()
    except BaseException:
        stack.purge()
        raise
    yield stack
    stack.purge()


def task_ids(stack: SwarmStack) -> dict[str, set[str]]:
    return {role: stack.cluster.running_task_ids(stack.name[role]) for role in ROLES}


def timed_up(stack: SwarmStack, **config) -> tuple[float, dict[str, str]]:
    started = time.monotonic()
    stack.up(**config)
    return time.monotonic() - started, dict(stack.steps)


def test_app_replicas_2_then_3_refused_then_1_then_2_restart_no_task_and_fail_no_request(
    stack, swarm_cluster, tmp_path, capsys
):
    balancer = Balancer([n.app_url for n in swarm_cluster.nodes])
    written: list[dict] = []
    clients = Clients(write_steadily(balancer, written, 1), read_steadily(balancer))
    before = task_ids(stack)
    try:
        time.sleep(2)
        # make up runs preflight first: 3 app tasks on 3 nodes could never be rolled out.
        refused = preflight_on_a_swarm(
            tmp_path,
            stack.db_label,
            {"appReplicas": "3", "appHostPort": str(stack.config["appHostPort"])},
            DOCKER_HOST=swarm_cluster.manager.engine_url,
        )
        down_seconds, down = timed_up(stack, appReplicas=1)
        one = task_ids(stack)
        up_seconds, up = timed_up(stack, appReplicas=2)
        two = task_ids(stack)
        time.sleep(2)
    finally:
        clients.stop()
        balancer.stop()
    lost = lost_rows(stack, written)
    report(
        capsys,
        f"appReplicas 2 -> 1 in {down_seconds:.1f} s, 1 -> 2 in {up_seconds:.1f} s: "
        f"{balancer.answered} requests answered, {balancer.retried} sent on to another node, "
        f"{len(balancer.failures)} failed, {len(written)} rows written, {len(lost)} lost; "
        f"app tasks kept {len(one['app'] & before['app'])} of 1, then "
        f"{len(one['app'] & two['app'])} of 1",
    )
    assert refused.returncode == 1
    assert "appReplicas is 3 and the swarm has 3 nodes ready and active" in refused.stderr
    assert (down["app-flask"], up["app-flask"]) == ("update", "update")
    assert {down[n] for n in ("db-postgres", "leitor-dados")} == {"same"}
    assert len(one["app"]) == 1 and one["app"] < before["app"]
    assert len(two["app"]) == 2 and one["app"] < two["app"]
    assert before["db"] == one["db"] == two["db"] and len(before["db"]) == 1
    assert before["reader"] == two["reader"]
    assert balancer.failures == []
    assert written and lost == []


def test_a_change_to_the_reader_alone_restarts_no_app_or_database_task(stack):
    before = task_ids(stack)
    interval = int(stack.setting("readerIntervalSeconds")) + 1
    _, steps = timed_up(stack, readerIntervalSeconds=interval)
    after = task_ids(stack)
    assert (steps["leitor-dados"], steps["app-flask"], steps["db-postgres"]) == (
        "update",
        "same",
        "same",
    )
    assert (after["app"], after["db"]) == (before["app"], before["db"])
    assert after["reader"] and not after["reader"] & before["reader"]


SETTINGS_IN_A_FILE = infra.swarm.settings


def settings_in_env(resource_name: str, environment: list, migrations: list) -> dict:
    """What the program declared before: the app's settings as its environment."""
    if resource_name != "app-settings":
        return SETTINGS_IN_A_FILE(resource_name, environment, migrations)
    variables = pulumi.Output.all(*environment)
    return {
        "env": variables.apply(lambda lines: dict(line.split("=", 1) for line in lines)),
        "configs": migrations,
    }


@pytest.mark.harness_only(
    "it patches infra.swarm in the tests' process, and the real engine runs the project's "
    "program in a process of its own"
)
def test_a_program_with_the_settings_back_in_env_restarts_the_app_tasks_on_a_scale(
    swarm_cluster, stack_factory, monkeypatch
):
    # A stack of its own, beside the module's: its app publishes another port.
    monkeypatch.setattr(infra.swarm, "settings", settings_in_env)
    other = SwarmStack(
        swarm_cluster, f"{stack_factory.prefix}env-", appReplicas=1, appHostPort=5001
    )
    try:
        other.up()
        before = task_ids(other)
        other.up(appReplicas=2)
        steps = dict(other.steps)
        after = wait_until(
            lambda: len((ids := task_ids(other))["app"]) == 2 and ids, 60, "two app tasks"
        )
    finally:
        other.purge()
    assert steps["app-flask"] == "update"
    assert len(before["app"]) == 1 and not before["app"] & after["app"]
    assert before["db"] == after["db"]
