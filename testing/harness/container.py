"""docker.Container, as terraform-provider-docker v4.5.0 makes, reads, updates and
deletes it (internal/provider/resource_docker_container_funcs.go, cited by line)."""

import contextlib
import io
import tarfile
import time

import docker
import docker.errors
from docker.utils import version_lt

from testing.harness.errors import HarnessError, UnsupportedDeclaration
from testing.harness.inputs import Inputs, format_duration, parse_duration

# resource_docker_container.go: defaults of the inputs the program leaves unset.
DEFAULT_PORT_IP = "0.0.0.0"  # :512
DEFAULT_WAIT_TIMEOUT = 60  # :89
HEALTH_POLL_SECONDS = 1  # funcs.go:609, the wait loop sleeps a second between looks
# moby client/container_create.go (github.com/docker/docker v28.5.2, the client
# pulumi-docker 5 builds with): refused before the request is sent.
START_INTERVAL_API = "1.44"
FAILED_TO_BE_HEALTHY = "container failed to be in healthy state"  # funcs.go:40


class ContainerHandler:
    def __init__(self, client: docker.DockerClient):
        self.client = client
        self.api = client.api

    # -- what the program declares ------------------------------------------------

    def check(self, inputs: Inputs) -> dict:
        where = inputs.where
        if inputs.get("logOpts"):
            raise UnsupportedDeclaration(
                f"{where}: logOpts are force-new and read back with the daemon's own options "
                "merged in (resource_docker_container_funcs.go:952): a daemon with log-opts "
                "would replace the container on every up"
            )
        news = {
            "name": inputs.require("name"),
            "image": inputs.require("image"),
            "command": inputs.get("command"),
            "entrypoints": inputs.get("entrypoints"),
            "envs": inputs.get("envs"),
            "restart": inputs.get("restart", "no"),
            "logDriver": inputs.get("logDriver"),
            "wait": inputs.bool("wait", False),
            "waitTimeout": inputs.int("waitTimeout", DEFAULT_WAIT_TIMEOUT),
            "mustRun": inputs.bool("mustRun", True),
            "destroyGraceSeconds": inputs.int("destroyGraceSeconds"),
            "ports": [_port(block) for block in inputs.blocks("ports")],
            "mounts": [_mount(block) for block in inputs.blocks("mounts")],
            "networksAdvanced": [_network(block) for block in inputs.blocks("networksAdvanced")],
            "uploads": [_upload(block) for block in inputs.blocks("uploads")],
            "healthcheck": _healthcheck(inputs.block("healthcheck")),
        }
        inputs.done()
        return news

    # -- create: funcs.go:43-673 ------------------------------------------------------

    def create(self, news: dict, record) -> tuple[str, dict]:
        self._refuse_what_the_engine_is_too_old_for(news)
        healthcheck = news["healthcheck"]
        ports = {
            f"{p['internal']}/{p['protocol']}": (p["ip"], p["external"]) for p in news["ports"]
        }
        host_config = self.api.create_host_config(
            port_bindings=ports or None,
            mounts=[
                docker.types.Mount(
                    m["target"], m["source"], type=m["type"], read_only=m["readOnly"]
                )
                for m in news["mounts"]
            ]
            or None,
            restart_policy={"Name": news["restart"]},
            log_config=docker.types.LogConfig(type=news["logDriver"] or ""),
            # funcs.go:392: network_mode defaults to "bridge"; the container leaves it below.
            network_mode="bridge",
        )
        config = self.api.create_container_config(
            image=news["image"],
            command=news["command"],
            entrypoint=news["entrypoints"],
            environment=news["envs"],
            ports=list(ports) or None,
            detach=True,
            host_config=host_config,
        )
        if healthcheck is not None:
            config["Healthcheck"] = {
                "Test": healthcheck["tests"],
                "Interval": parse_duration(healthcheck["interval"]),
                "Timeout": parse_duration(healthcheck["timeout"]),
                "StartPeriod": parse_duration(healthcheck["startPeriod"]),
                "StartInterval": parse_duration(healthcheck["startInterval"]),
                "Retries": healthcheck["retries"],
            }
        try:
            container_id = self.api.create_container_from_config(config, news["name"])["Id"]
        except docker.errors.APIError as error:
            raise HarnessError(f"Unable to create container: {error.explanation}") from None
        record(container_id, dict(news))
        if news["networksAdvanced"]:
            # funcs.go:463-500: off Docker's default bridge, onto each declared network.
            self.api.disconnect_container_from_network(container_id, "bridge")
            for block in news["networksAdvanced"]:
                self.api.connect_container_to_network(
                    container_id, block["name"], aliases=block["aliases"] or None
                )
        if news["uploads"]:
            self.api.put_archive(container_id, "/", _archive(news["uploads"]))
        self.api.start(container_id)
        if news["wait"]:
            self._wait_healthy(container_id, news)
        return container_id, self._read(container_id, news)

    def _refuse_what_the_engine_is_too_old_for(self, news: dict) -> None:
        healthcheck = news["healthcheck"]
        version = self.api.api_version
        if (
            healthcheck
            and parse_duration(healthcheck["startInterval"])
            and version_lt(version, START_INTERVAL_API)
        ):
            raise HarnessError(
                f"container {news['name']}: Unable to create container: "
                f'"specify health-check start interval" requires API version '
                f"{START_INTERVAL_API}, but the Docker daemon API version is {version}"
            )

    def _wait_healthy(self, container_id: str, news: dict) -> None:
        # funcs.go:590-625: a look a second until healthy, else an error at waitTimeout.
        # A container that exits or turns unhealthy is waited for all the same.
        deadline = time.monotonic() + news["waitTimeout"]
        while True:
            state = self.api.inspect_container(container_id)["State"]
            if state.get("Health") is None:  # funcs.go:599
                raise HarnessError(
                    f"container {news['name']}: you have supplied a 'wait' argument, but the "
                    "container does not have a healthcheck defined"
                )
            if state["Health"]["Status"] == "healthy":
                return
            if time.monotonic() >= deadline:
                # funcs.go:40 and :614-616: the provider says no more than this; what
                # went wrong is make up's verdict to tell (scripts/verdict.py).
                raise HarnessError(f"container {news['name']}: {FAILED_TO_BE_HEALTHY}")
            time.sleep(HEALTH_POLL_SECONDS)

    # -- read: funcs.go:750-981 -------------------------------------------------------

    def read(self, realized) -> dict | None:
        return self._read(realized.id, realized.outputs)

    def _read(self, container_id: str, state: dict) -> dict | None:
        try:
            attrs = self.api.inspect_container(container_id)
        except docker.errors.NotFound:
            return None  # funcs.go:771: gone from the state, made again by up
        running = attrs["State"]["Running"]
        config, host = attrs["Config"], attrs["HostConfig"]
        read = dict(state)
        # funcs.go:800: ports are read while running (or while must_run is still
        # true in the state); an exited container has none, and ports are force-new.
        if state["ports"] and (running or state["mustRun"]):
            read["ports"] = _ports_of(attrs["NetworkSettings"].get("Ports") or {})
        if not running and state["mustRun"]:
            read["mustRun"] = False  # funcs.go:822, so that Update starts it again
        read.update(
            name=attrs["Name"].lstrip("/"),
            # funcs.go:840: an image given by ID reads back as the container's image ID.
            image=attrs["Image"] if state["image"].startswith("sha256:") else config["Image"],
            command=config.get("Cmd"),
            entrypoints=config.get("Entrypoint"),
            restart=host["RestartPolicy"]["Name"],
            logDriver=host["LogConfig"]["Type"],
            networkMode=host["NetworkMode"],  # funcs.go:954
            mounts=[
                {
                    "type": m["Type"],
                    "source": m.get("Source", ""),
                    "target": m["Target"],
                    "readOnly": m.get("ReadOnly", False),
                }
                for m in host.get("Mounts") or []
            ],
            healthcheck=_healthcheck_of(config.get("Healthcheck")),
        )
        return read

    # -- update: funcs.go:991-1076 -----------------------------------------------------

    def update(self, realized, news: dict, changed: set[str]) -> dict:
        if not realized.outputs["mustRun"] and news["mustRun"]:
            self.api.start(realized.id)
        if "restart" in changed:
            self.api.update_container(realized.id, restart_policy={"Name": news["restart"]})
        # Every other change is recorded in the state only.
        return {**realized.outputs, **news}

    # -- delete: funcs.go:1079-1130 ----------------------------------------------------

    def delete(self, realized) -> None:
        grace = realized.outputs.get("destroyGraceSeconds") or 0
        with contextlib.suppress(docker.errors.NotFound):
            self.api.stop(realized.id, timeout=grace)
            self.api.remove_container(realized.id, force=True, v=True)


def _port(block: Inputs) -> dict:
    port = {
        "internal": block.int("internal"),
        "external": block.int("external"),
        "ip": block.get("ip", DEFAULT_PORT_IP),
        "protocol": "tcp",  # resource_docker_container.go:528, the default
    }
    block.done()
    return port


def _ports_of(bindings: dict) -> list[dict]:
    """NetworkSettings.Ports flattened as resource_docker_container_structures.go:35 does:
    one entry a binding, sorted by port."""
    ports = []
    for key in sorted(bindings, key=lambda k: int(k.split("/")[0])):
        number, protocol = key.split("/")
        for binding in bindings[key] or []:
            ports.append(
                {
                    "internal": int(number),
                    "external": int(binding["HostPort"]),
                    "ip": binding["HostIp"],
                    "protocol": protocol,
                }
            )
    return ports


def _mount(block: Inputs) -> dict:
    mount = {
        "type": block.require("type"),
        "source": block.get("source", ""),
        "target": block.require("target"),
        "readOnly": False,  # the default; Read reports it (structures.go:394)
    }
    block.done()
    return mount


def _network(block: Inputs) -> dict:
    network = {"name": block.require("name"), "aliases": block.get("aliases")}
    block.done()
    return network


def _upload(block: Inputs) -> dict:
    upload = {"file": block.require("file"), "content": block.require("content")}
    block.done()
    return upload


def _healthcheck(block: Inputs | None) -> dict | None:
    if block is None:
        return None
    # resource_docker_container.go:1059-1094: every duration defaults to "0s".
    healthcheck = {
        "tests": block.require("tests"),
        "interval": block.get("interval", "0s"),
        "timeout": block.get("timeout", "0s"),
        "startPeriod": block.get("startPeriod", "0s"),
        "startInterval": block.get("startInterval", "0s"),
        "retries": block.int("retries", 0),
    }
    for key in ("interval", "timeout", "startPeriod", "startInterval"):
        parse_duration(healthcheck[key])  # validateDurationGeq0
    block.done()
    return healthcheck


def _healthcheck_of(config: dict | None) -> dict | None:
    """funcs.go:961-970: durations as Go's Duration.String() writes them."""
    if not config:
        return None
    return {
        "tests": config.get("Test"),
        "interval": format_duration(config.get("Interval", 0)),
        "timeout": format_duration(config.get("Timeout", 0)),
        "startPeriod": format_duration(config.get("StartPeriod", 0)),
        "startInterval": format_duration(config.get("StartInterval", 0)),
        "retries": config.get("Retries", 0),
    }


def _archive(uploads: list[dict]) -> bytes:
    # funcs.go:505-580: one tar a file, mode 0644, owned by root.
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for upload in uploads:
            data = upload["content"].encode("utf-8")
            info = tarfile.TarInfo(upload["file"].lstrip("/"))
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
