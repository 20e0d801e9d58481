"""What runs in Docker is what the program declares, input by input.

Read-only checks on the session's live_stack: each container compared with its
declaration (image, env, entrypoint, networks and aliases, published ports,
mounts, health check, restart policy, logging, uploaded files). The isolation
the tests rely on is tested with the other fixtures, in tests/suite.
"""

import pytest

from testing.harness import CONTAINER
from testing.harness.inputs import parse_duration
from testing.live import ROLES, read_file
from testing.program import unwrap_secrets

pytestmark = pytest.mark.e2e


def declared_containers(stack) -> dict[str, dict]:
    return {c.inputs["name"]: unwrap_secrets(c.inputs) for c in stack.run.of_type(CONTAINER)}


def test_every_container_matches_its_declaration(live_stack):
    declared = declared_containers(live_stack)
    assert set(declared) == {live_stack.container_name(r) for r in ROLES}
    for name, inputs in declared.items():
        container = live_stack.docker.containers.get(name)
        attrs, host = container.attrs, container.attrs["HostConfig"]
        config = attrs["Config"]

        assert attrs["Image"] == inputs["image"], name
        assert set(inputs["envs"]) <= set(config["Env"]), name
        if "entrypoints" in inputs:
            assert config["Entrypoint"] == inputs["entrypoints"], name

        networks = attrs["NetworkSettings"]["Networks"]
        # Only on the stack's network: not on Docker's default bridge.
        assert set(networks) == {n["name"] for n in inputs["networksAdvanced"]}, name
        for network in inputs["networksAdvanced"]:
            assert set(network.get("aliases", [])) <= set(networks[network["name"]]["Aliases"])

        bindings = {
            f"{int(p['internal'])}/tcp": [{"HostIp": p["ip"], "HostPort": str(int(p["external"]))}]
            for p in inputs.get("ports", [])
        }
        assert (host["PortBindings"] or {}) == bindings, name

        mounts = [(m["Type"], m["Name"], m["Destination"]) for m in attrs["Mounts"]]
        assert mounts == [(m["type"], m["source"], m["target"]) for m in inputs.get("mounts", [])]

        assert host["RestartPolicy"]["Name"] == inputs["restart"]
        # No options of ours: the engine's defaults for the driver (and the daemon's, if any).
        assert host["LogConfig"]["Type"] == inputs["logDriver"] == "local"

        if "healthcheck" in inputs:
            check, health = inputs["healthcheck"], config["Healthcheck"]
            assert health["Test"] == check["tests"]
            assert health["Interval"] == parse_duration(check["interval"])
            assert health["Timeout"] == parse_duration(check["timeout"])
            assert health["StartPeriod"] == parse_duration(check["startPeriod"])
            assert health["Retries"] == check["retries"]

        for upload in inputs.get("uploads", []):
            content, mode, _ = read_file(container, upload["file"])
            assert content == upload["content"].encode("utf-8"), upload["file"]
            assert mode == 0o644, upload["file"]


def test_only_the_app_is_published_and_only_on_loopback(live_stack):
    published = {}
    for role in ROLES:
        ports = live_stack.container(role).attrs["NetworkSettings"]["Ports"] or {}
        published[role] = sorted(
            (b["HostIp"], b["HostPort"]) for bindings in ports.values() for b in bindings or []
        )
    assert published == {
        "db": [],
        "migrator": [],
        "app": [("127.0.0.1", str(live_stack.config.app_host_port))],
        "reader": [],
    }
    assert live_stack.url == f"http://127.0.0.1:{live_stack.config.app_host_port}"


def test_the_app_finds_the_database_by_its_alias(live_stack):
    network = live_stack.config.network_name
    db_address = live_stack.container("db").attrs["NetworkSettings"]["Networks"][network][
        "IPAddress"
    ]
    lookup = live_stack.container("app").exec_run(
        [
            "python",
            "-c",
            f"import socket; print(socket.gethostbyname({live_stack.config.db_alias!r}))",
        ]
    )
    assert lookup.exit_code == 0, lookup.output
    assert lookup.output.decode().strip() == db_address
    status = live_stack.get("/status").json()
    assert (status["database"], status["volume"]) == ("ok", live_stack.config.volume_name)
