"""The harness on a Docker engine: strict about what it does not simulate, and
following the provider where the program's own tests do not reach (a change
that only updates the state, a wait that times out, retain_on_delete).

Declarations are built by hand, as the mock runtime hands them over, and
realized under the session prefix (swept at the end).
"""

import secrets

import pulumi
import pytest

from infra.settings import StackConfig
from testing.harness import (
    CONTAINER,
    IMAGE,
    NETWORK,
    REMOTE_IMAGE,
    VOLUME,
    DockerHarness,
    HarnessError,
    UnsupportedDeclaration,
)
from testing.live import sweep
from testing.program import Declared
from testing.project import app_with_a_new_step, containers_made

pytestmark = pytest.mark.e2e

# The reader's image: it has /bin/sh and sleep, and the e2e setup requires it.
SHELL_IMAGE = StackConfig.__dataclass_fields__["reader_image"].default


@pytest.fixture
def harness(docker_engine, stack_factory):
    harness = DockerHarness(docker_engine)
    harness.prefix = f"{stack_factory.prefix}h{secrets.token_hex(2)}-"
    yield harness
    harness.purge()
    sweep(docker_engine, harness.prefix)


def declare(type_token, name, inputs, **options) -> Declared:
    return Declared(type_token, name, inputs, pulumi.ResourceOptions(**options))


def sleeper(harness, name="sleeper", **inputs) -> Declared:
    _, image = harness.provision(
        declare(REMOTE_IMAGE, "shell-image", {"name": SHELL_IMAGE, "keepLocally": True})
    )
    return declare(
        CONTAINER,
        name,
        {
            "name": harness.prefix + name,
            "image": image["imageId"],
            "entrypoints": ["sleep", "300"],
            "logDriver": "local",
            **inputs,
        },
    )


def test_an_unknown_resource_type_is_an_error(harness):
    with pytest.raises(UnsupportedDeclaration, match="docker:index/plugin:Plugin"):
        harness.provision(declare("docker:index/plugin:Plugin", "plugin", {"name": "x"}))
    assert harness.resources == []


def test_an_input_the_program_never_set_is_an_error_and_creates_nothing(harness, docker_engine):
    with pytest.raises(UnsupportedDeclaration, match="privileged"):
        harness.provision(sleeper(harness, privileged=True))
    assert docker_engine.containers.list(all=True, filters={"name": harness.prefix}) == []


def test_log_options_are_refused_with_the_reason(harness):
    with pytest.raises(UnsupportedDeclaration, match="daemon's own options"):
        harness.provision(sleeper(harness, logOpts={"max-size": "1m"}))


def test_an_option_the_program_never_set_is_an_error(harness):
    declared = declare(VOLUME, "v", {"name": harness.prefix + "v"}, import_="existing-volume")
    with pytest.raises(UnsupportedDeclaration, match="import_"):
        harness.provision(declared)


def test_protect_which_the_program_does_not_use_is_refused(harness):
    declared = declare(VOLUME, "data", {"name": harness.prefix + "data"}, protect=True)
    with pytest.raises(UnsupportedDeclaration, match="protect"):
        harness.provision(declared)


def test_retain_on_delete_keeps_the_volume_and_a_create_adopts_it_again(harness, docker_engine):
    name = harness.prefix + "data"
    harness.provision(declare(VOLUME, "data", {"name": name}, retain_on_delete=True))
    harness.destroy()
    assert (harness.resources, docker_engine.volumes.get(name).name) == ([], name)
    harness.provision(declare(VOLUME, "data", {"name": name}))
    assert harness.steps["data"] == "create"


def test_destroy_deletes_in_reverse_order(harness):
    network = harness.prefix + "net"
    harness.provision(declare(NETWORK, "net", {"name": network}))
    harness.provision(sleeper(harness, networksAdvanced=[{"name": network}]))
    harness.destroy()  # the network can only go once its container has
    assert [line.split()[-1] for line in harness.log[-3:]] == ["sleeper", "shell-image", "net"]


def test_a_force_new_change_replaces_the_container_old_one_first(harness, docker_engine):
    _, first = harness.provision(sleeper(harness, envs=["A=1"]))
    old_id = docker_engine.containers.get(first["name"]).id
    harness.provision(sleeper(harness, envs=["A=2"]))
    assert harness.log[-1].startswith("replace") and harness.log[-1].endswith("(envs)")
    assert docker_engine.containers.get(first["name"]).id != old_id


def test_a_health_check_change_alone_is_recorded_but_never_reaches_docker(harness, docker_engine):
    check = {"tests": ["CMD", "true"], "interval": "1s", "retries": 1}
    _, outputs = harness.provision(sleeper(harness, healthcheck=check))
    harness.provision(sleeper(harness, healthcheck={**check, "interval": "2s"}))
    running = docker_engine.containers.get(outputs["name"]).attrs["Config"]["Healthcheck"]
    assert (harness.steps["sleeper"], running["Interval"]) == ("update", 10**9)


def test_wait_gives_up_at_wait_timeout_with_the_containers_health_log(harness):
    declared = sleeper(
        harness,
        healthcheck={"tests": ["CMD", "sh", "-c", "echo not ready; exit 1"], "interval": "1s"},
        wait=True,
        waitTimeout=3,
    )
    with pytest.raises(HarnessError, match=r"container failed to be in healthy state$"):
        harness.provision(declared)
    # Created before it failed, so it is in the state for destroy to remove.
    assert [r.name for r in harness.resources if r.type == CONTAINER] == ["sleeper"]


def test_wait_without_a_health_check_is_the_providers_error(harness):
    with pytest.raises(HarnessError, match="does not have a healthcheck defined"):
        harness.provision(sleeper(harness, wait=True))


@pytest.mark.parametrize(("builder", "left"), [("BuilderV1", True), ("BuilderBuildKit", False)])
def test_a_build_leaves_the_containers_its_builder_leaves(
    harness, docker_engine, tmp_path, builder, left
):
    # The classic builder keeps each step's container, since the provider sends rm=0:
    # a test would see it. BuildKit's steps are no containers of the engine.
    changed = app_with_a_new_step(tmp_path)
    harness.build_from(changed)
    build = {"context": "app", "dockerfile": "app/Dockerfile", "builderVersion": builder}
    tag = f"{harness.prefix}build:1"
    with containers_made(docker_engine) as leftovers:
        harness.provision(
            declare(IMAGE, "image", {"imageName": tag, "skipPush": True, "build": build})
        )
    for container in leftovers:
        container.remove(force=True)
    docker_engine.images.remove(tag, noprune=True)
    assert bool(leftovers) is left
