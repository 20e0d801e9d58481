"""The harness itself: strict about what it cannot honor, faithful to Pulumi's
lifecycle (protect, retain_on_delete, random values, replacement), and to the
container inputs the program does not use today.

Declarations are built by hand here, as the mock runtime would hand them over,
and realized on the engine under the session prefix (swept at the end).
"""

import secrets

import docker.errors
import pulumi
import pytest

from infra.config import StackConfig
from tests.e2e.harness import (
    CONTAINER,
    NETWORK,
    RANDOM_PASSWORD,
    REMOTE_IMAGE,
    VOLUME,
    DockerHarness,
    HarnessError,
    ProtectedResourceError,
    UnsupportedDeclaration,
    duration_ns,
)
from tests.e2e.live import read_file, sweep
from tests.support.program import Declared

pytestmark = pytest.mark.e2e

# The reader's image: it has /bin/sh and sleep, and the e2e setup requires it.
SHELL_IMAGE = StackConfig.__dataclass_fields__["reader_image"].default


class Harness(DockerHarness):
    """A harness whose test resources are named under a prefix of their own."""

    def __init__(self, client, prefix: str):
        super().__init__(client)
        self.prefix = prefix


@pytest.fixture
def harness(docker_engine, stack_factory):
    harness = Harness(docker_engine, f"{stack_factory.prefix}h{secrets.token_hex(2)}-")
    yield harness
    harness.purge()
    sweep(docker_engine, harness.prefix)


def declare(type_token, name, inputs, **options) -> Declared:
    return Declared(
        type=type_token, name=name, inputs=inputs, options=pulumi.ResourceOptions(**options)
    )


def image_id(harness) -> str:
    _, outputs = harness.provision(
        declare(REMOTE_IMAGE, "shell-image", {"name": SHELL_IMAGE, "keepLocally": True})
    )
    return outputs["imageId"]


def sleeper(harness, name="sleeper", **inputs) -> Declared:
    return declare(
        CONTAINER,
        name,
        {
            "name": harness.prefix + name,
            "image": image_id(harness),
            "entrypoints": ["sleep"],
            "command": ["300"],
            **inputs,
        },
    )


def test_durations_parse_as_go_does():
    assert duration_ns("5s") == 5 * 10**9
    assert duration_ns("250ms") == 250 * 10**6
    assert duration_ns("1m30s") == 90 * 10**9
    assert duration_ns("1.5h") == 5400 * 10**9
    with pytest.raises(HarnessError):
        duration_ns("5 seconds")


def test_an_unknown_resource_type_is_an_error(harness):
    with pytest.raises(UnsupportedDeclaration, match="docker:index/service:Service"):
        harness.provision(declare("docker:index/service:Service", "svc", {"name": "x"}))
    assert harness.resources == []


def test_an_unknown_input_is_an_error_and_creates_nothing(harness, docker_engine):
    declared = sleeper(harness, gpus="all")
    with pytest.raises(UnsupportedDeclaration, match="gpus"):
        harness.provision(declared)
    with pytest.raises(docker.errors.NotFound):
        docker_engine.containers.get(declared.inputs["name"])


def test_an_unknown_nested_input_is_an_error(harness):
    declared = sleeper(harness, healthcheck={"tests": ["CMD", "true"], "startIntervalJitter": "1s"})
    with pytest.raises(UnsupportedDeclaration, match=r"healthcheck.*startIntervalJitter"):
        harness.provision(declared)


def test_an_unknown_option_is_an_error(harness):
    declared = declare(VOLUME, "v", {"name": harness.prefix + "v"}, import_="existing-volume")
    with pytest.raises(UnsupportedDeclaration, match="import_"):
        harness.provision(declared)


def test_protect_makes_destroy_fail_before_deleting_anything(harness, docker_engine):
    harness.provision(declare(NETWORK, "net", {"name": harness.prefix + "net"}))
    harness.provision(declare(VOLUME, "data", {"name": harness.prefix + "data"}, protect=True))
    with pytest.raises(ProtectedResourceError, match="data"):
        harness.destroy()
    assert docker_engine.volumes.get(harness.prefix + "data")
    assert docker_engine.networks.list(names=[harness.prefix + "net"])
    assert len(harness.resources) == 2


def test_retain_on_delete_keeps_the_volume_and_up_attaches_it_again(harness, docker_engine):
    name = harness.prefix + "data"
    harness.provision(declare(VOLUME, "data", {"name": name}, retain_on_delete=True))
    volume = docker_engine.volumes.get(name)
    harness.destroy()
    assert harness.resources == []
    assert docker_engine.volumes.get(name).attrs["CreatedAt"] == volume.attrs["CreatedAt"]
    harness.provision(declare(VOLUME, "data", {"name": name}))
    assert docker_engine.volumes.get(name).attrs["CreatedAt"] == volume.attrs["CreatedAt"]
    harness.destroy()
    with pytest.raises(docker.errors.NotFound):
        docker_engine.volumes.get(name)


def test_a_random_value_lives_until_destroy(harness):
    declared = declare(RANDOM_PASSWORD, "password", {"length": 24, "special": False})
    _, first = harness.provision(declared)
    assert len(first["result"]) == 24 and first["result"].isalnum()
    _, again = harness.provision(declared)
    assert again["result"] == first["result"], "an up with the value in the state drew a new one"
    harness.destroy()
    _, after = harness.provision(declared)
    assert after["result"] != first["result"]


def test_destroy_deletes_in_reverse_order(harness, docker_engine):
    network = harness.prefix + "net"
    harness.provision(declare(NETWORK, "net", {"name": network}))
    harness.provision(sleeper(harness, networksAdvanced=[{"name": network}]))
    harness.destroy()  # the network can only go once its container has
    assert not docker_engine.networks.list(names=[network])
    assert [line.split()[0] for line in harness.log[-3:]] == ["delete"] * 3
    assert harness.log[-3].endswith("sleeper")


def test_a_changed_container_is_replaced_and_an_unchanged_one_kept(harness, docker_engine):
    _, outputs = harness.provision(sleeper(harness, envs=["A=1"]))
    first = docker_engine.containers.get(outputs["name"]).id
    harness.provision(sleeper(harness, envs=["A=1"]))
    assert docker_engine.containers.get(outputs["name"]).id == first
    harness.provision(sleeper(harness, envs=["A=2"]))
    replaced = docker_engine.containers.get(outputs["name"])
    assert replaced.id != first
    assert "A=2" in replaced.attrs["Config"]["Env"]


def test_container_inputs_beyond_the_programs(harness, docker_engine):
    declared = sleeper(
        harness,
        user="1234:5678",
        workingDir="/srv",
        hostname="sleepy",
        labels=[{"label": "desafio2.test", "value": "yes"}],
        hosts=[{"host": "example.internal", "ip": "10.1.2.3"}],
        ports=[{"internal": 8080.0, "ip": "127.0.0.1"}],
        tmpfs={"/scratch": "size=1m"},
        init=True,
        restart="on-failure",
        maxRetryCount=2.0,
        capabilities={"drops": ["NET_RAW"]},
        stopSignal="SIGTERM",
        destroyGraceSeconds=1.0,
        uploads=[
            {"file": "/opt/run.sh", "content": "#!/bin/sh\n", "executable": True},
            {"file": "/opt/key", "contentBase64": "AAEC", "permissions": "0600", "owner": "1234"},
        ],
    )
    _, outputs = harness.provision(declared)
    container = docker_engine.containers.get(outputs["name"])
    config, host = container.attrs["Config"], container.attrs["HostConfig"]
    assert (config["User"], config["WorkingDir"], config["Hostname"]) == (
        "1234:5678",
        "/srv",
        "sleepy",
    )
    assert config["Labels"]["desafio2.test"] == "yes"
    assert config["StopSignal"] == "SIGTERM"
    assert host["ExtraHosts"] == ["example.internal:10.1.2.3"]
    assert host["Tmpfs"] == {"/scratch": "size=1m"}
    assert host["Init"] is True
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert host["CapDrop"] == ["NET_RAW"]
    # No external port: Docker picks one, on the address asked for.
    binding = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]
    assert binding["HostIp"] == "127.0.0.1" and int(binding["HostPort"]) > 0
    files = {path: read_file(container, path) for path in ("/opt/run.sh", "/opt/key")}
    assert files == {
        "/opt/run.sh": (b"#!/bin/sh\n", 0o744, 0),
        "/opt/key": (b"\x00\x01\x02", 0o600, 1234),
    }


def test_a_read_only_root_filesystem(harness, docker_engine):
    _, outputs = harness.provision(sleeper(harness, readOnly=True))
    container = docker_engine.containers.get(outputs["name"])
    assert container.attrs["HostConfig"]["ReadonlyRootfs"] is True
    assert container.exec_run(["touch", "/x"]).exit_code != 0


def test_wait_fails_with_the_health_log_when_a_container_turns_unhealthy(harness):
    declared = sleeper(
        harness,
        healthcheck={
            "tests": ["CMD", "sh", "-c", "echo not ready; exit 1"],
            "interval": "200ms",
            "retries": 1.0,
        },
        wait=True,
        waitTimeout=30.0,
    )
    with pytest.raises(HarnessError, match=r"(?s)unhealthy.*not ready"):
        harness.provision(declared)
    # Created before it failed, so it is in the state for destroy to remove.
    assert [r.name for r in harness.resources if r.type == CONTAINER] == ["sleeper"]


def test_wait_without_a_health_check_is_an_error(harness):
    with pytest.raises(HarnessError, match="no health check"):
        harness.provision(sleeper(harness, wait=True))


def test_a_stopped_container_that_must_run_is_made_again_by_up(harness, docker_engine):
    declared = sleeper(harness)
    _, outputs = harness.provision(declared)
    container = docker_engine.containers.get(outputs["name"])
    container.kill()
    harness.provision(declared)
    again = docker_engine.containers.get(outputs["name"])
    assert again.id != container.id and again.status == "running"
