"""The harness's docker.Service, checked without Docker: it sends and reads back what
the provider does (env in an order of its own on each call, the restart policy as
createRestartPolicy and flattenTaskRestartPolicy write it), and an Optional and
Computed block left out is planned from the state."""

import random

import pytest

from testing.harness import RULES, SERVICE
from testing.harness.inputs import Inputs
from testing.harness.plan import diff
from testing.harness.service_request import env_as_sent, restart_policy_as_sent
from testing.harness.service_spec import declared, restart_policy_of

SECOND = 10**9
ENV = {f"VARIABLE_{n}": str(n) for n in range(9)}
PLATFORMS = [{"architecture": "amd64", "os": "linux"}]


def declared_service(**task_spec) -> dict:
    inputs = {"name": "svc", "taskSpec": {"containerSpec": {"image": "img"}, **task_spec}}
    return declared(Inputs(inputs, "Service 'svc'"))


def test_env_is_sent_in_a_new_order_on_each_call_and_whole():
    orders = {tuple(env_as_sent(ENV, random.Random(seed))) for seed in range(10)}
    assert len(orders) > 1
    assert {tuple(sorted(order)) for order in orders} == {
        tuple(sorted(f"{k}={v}" for k, v in ENV.items()))
    }


def test_one_variable_has_one_order():
    orders = {tuple(env_as_sent({"ONLY": "1"}, random.Random(seed))) for seed in range(10)}
    assert orders == {("ONLY=1",)}


def test_a_restart_policy_left_out_is_created_empty():
    assert restart_policy_as_sent(None) == {}


def test_then_what_docker_made_of_it_is_sent_back_with_a_zero_delay_and_window():
    # Docker fills an empty policy with its condition and no limit, and no delay or window.
    state = restart_policy_of({"Condition": "any", "MaxAttempts": 0})
    assert state == {"condition": "any", "delay": "", "maxAttempts": 0, "window": ""}
    assert restart_policy_as_sent(state) == {
        "Condition": "any",
        "Delay": 0,
        "MaxAttempts": 0,
        "Window": 0,
    }


def test_a_restart_policy_declared_in_full_reads_back_as_declared():
    policy = {"condition": "any", "delay": "5s", "maxAttempts": 0, "window": "0s"}
    news = declared_service(restartPolicy=policy)["taskSpec.restartPolicy"]
    sent = restart_policy_as_sent(news)
    assert sent == {"Condition": "any", "Delay": 5 * SECOND, "MaxAttempts": 0, "Window": 0}
    assert restart_policy_of(sent) == news == policy


def test_a_part_left_out_of_a_declared_restart_policy_is_sent_as_zero():
    news = declared_service(restartPolicy={"condition": "on-failure"})["taskSpec.restartPolicy"]
    assert restart_policy_as_sent(news)["Delay"] == 0


@pytest.mark.parametrize(
    ("placement", "changed"),
    [(None, set()), ({"maxReplicas": 1}, {"taskSpec.placement.platforms"})],
    ids=["left-out", "declared"],
)
def test_the_platforms_docker_added_are_a_change_only_under_a_declared_placement(
    placement, changed
):
    news = declared_service(**({"placement": placement} if placement else {}))
    # The state after create: what was declared, with the image's platforms added.
    state = {
        **{key: None for key in news},
        "name": "svc",
        "taskSpec.containerSpec.image": "img",
        "taskSpec.containerSpec.isolation": "default",
        "taskSpec.placement.maxReplicas": (placement or {}).get("maxReplicas", 0),
        "taskSpec.placement.platforms": PLATFORMS,
        "mode.replicated.replicas": 1,
        "taskSpec.restartPolicy": {"condition": "any", "delay": "", "maxAttempts": 0, "window": ""},
    }
    assert diff(RULES[SERVICE], state, news, ignored=set()) == changed
