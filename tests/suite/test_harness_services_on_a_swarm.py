"""The harness's docker.Service on the test swarm (testing/swarm/cluster.py): what it sends
makes Docker do what the provider's requests make it do. An update that sends what
Docker holds restarts no task; env of several variables, or a restart policy left out,
restarts them on a mere change of replicas; the errors are the provider's texts."""

import secrets

import pytest

from testing.harness import SERVICE, HarnessError, Realized
from testing.harness.inputs import Inputs
from testing.harness.service import ServiceHandler
from testing.harness.service_spec import declared
from testing.live import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.swarm]

RESTART_POLICY = {"condition": "any", "delay": "5s", "maxAttempts": 0, "window": "0s"}


@pytest.fixture
def services(swarm_cluster):
    """Declare, create and update services through the harness; all removed at the end."""
    handler = ServiceHandler(swarm_cluster.manager_client)
    made: list[Realized] = []
    # By digest, as the program names images: one named by tag alone is read back
    # pinned (the client asks the registry on create), and every update would differ.
    image = swarm_cluster.mirrored("curlimages/curl:8.4.0")
    image += (
        "@" + swarm_cluster.manager_client.api.inspect_distribution(image)["Descriptor"]["digest"]
    )

    class Services:
        @staticmethod
        def inputs(env: dict | None = None, **task_spec) -> dict:
            return {
                "name": f"harness-{secrets.token_hex(4)}",
                "taskSpec": {
                    "containerSpec": {
                        "image": image,
                        "commands": ["sleep", "3600"],
                        "env": env,
                        "stopGracePeriod": "1s",
                    },
                    **task_spec,
                },
                "mode": {"replicated": {"replicas": 1}},
                "convergeConfig": {"delay": "1s", "timeout": "90s"},
            }

        @staticmethod
        def create(inputs: dict) -> Realized:
            news = declared(Inputs(inputs, "Service"))
            service_id, outputs = handler.create(news, lambda *_: None)
            made.append(Realized(SERVICE, inputs["name"], news, service_id, outputs))
            return made[-1]

        @staticmethod
        def update(realized: Realized, inputs: dict) -> None:
            news = declared(Inputs(inputs, "Service"))
            realized.outputs = handler.update(realized, news, changed=set())

    yield Services
    for realized in made:
        handler.delete(realized)


def scale_from_one_to_two(services, swarm_cluster, **declared) -> tuple[set, set]:
    """The running tasks' IDs before and after the replica count alone is changed."""
    inputs = services.inputs(**declared)
    realized = services.create(inputs)
    before = swarm_cluster.running_task_ids(inputs["name"])
    services.update(realized, {**inputs, "mode": {"replicated": {"replicas": 2}}})
    after = wait_until(
        lambda: len(ids := swarm_cluster.running_task_ids(inputs["name"])) == 2 and ids,
        60,
        "two running tasks",
    )
    return before, after


def test_a_change_of_replicas_alone_restarts_no_task(services, swarm_cluster):
    before, after = scale_from_one_to_two(
        services, swarm_cluster, restartPolicy=RESTART_POLICY, env={"ONLY": "1"}
    )
    assert len(before) == 1 and before < after


def test_with_several_variables_in_env_it_restarts_them(services, swarm_cluster):
    env = {f"VARIABLE_{n}": str(n) for n in range(9)}
    before, after = scale_from_one_to_two(
        services, swarm_cluster, restartPolicy=RESTART_POLICY, env=env
    )
    assert len(before) == 1 and not before & after


def test_with_the_restart_policy_left_out_it_restarts_them(services, swarm_cluster):
    before, after = scale_from_one_to_two(services, swarm_cluster)
    assert len(before) == 1 and not before & after


def test_a_change_only_the_provider_keeps_restarts_no_task(services, swarm_cluster):
    # convergeConfig is never sent to Docker (funcs.go:83-167 never reads it back either).
    inputs = services.inputs(restartPolicy=RESTART_POLICY)
    realized = services.create(inputs)
    before = swarm_cluster.running_task_ids(inputs["name"])
    services.update(realized, {**inputs, "convergeConfig": {"delay": "1s", "timeout": "60s"}})
    assert swarm_cluster.running_task_ids(inputs["name"]) == before and len(before) == 1


def test_a_service_that_does_not_converge_is_deleted_with_the_providers_error(
    services, swarm_cluster
):
    inputs = services.inputs(placement={"constraints": ["node.labels.nowhere==true"]})
    inputs["convergeConfig"] = {"delay": "1s", "timeout": "2500ms"}
    with pytest.raises(HarnessError) as raised:
        services.create(inputs)
    # The timeout as Go's Duration.String() writes it, not as declared.
    assert str(raised.value).endswith(") did not converge after 2.5s")
    assert str(raised.value).startswith("Service with ID (")
    wait_until(
        lambda: not swarm_cluster.manager_client.services.list(filters={"name": inputs["name"]}),
        30,
        "the service to be deleted",
    )
