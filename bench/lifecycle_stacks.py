"""The two stacks `make bench-lifecycle` times, each with names and a port of its own:

- `ComposeStack`: docker compose running the containers the program declares (its
  images, environment, files, volume, network, aliases, ports and start order),
  with the health checks this stack had before it shortened them: every 5 s, 3 s
  timeout, 5 retries;
- ours: `MakeStack` (testing/make_stack.py), `make up` and `make down` on a
  stack of their own in a temporary Pulumi backend, when the real Pulumi CLI is
  installed; else `HarnessStack`, the e2e harness (testing/harness), the
  stand-in for Pulumi and its docker provider that the tests use.

Each has `up()`, `down()`, `reset()` (down, and the volume removed: what a cold up
starts from), `close()` (everything it made gone) and `app`, the name of the app's
container, and `app_image`, the app image's name.
"""

import shutil
import subprocess
from pathlib import Path

import docker
import yaml

from testing.harness import CONTAINER, IMAGE, NETWORK, REMOTE_IMAGE, VOLUME
from testing.live import HARNESS_ENGINE, StackFactory
from testing.make_stack import isolated
from testing.program import Declared, run_program, unwrap_secrets

# The stack's health checks before issue 18, for docker compose.
COMPOSE_HEALTH = {"interval": "5s", "timeout": "3s", "retries": 5}


def compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    return ["docker", "compose"] if probe.returncode == 0 else None


def _named_images(resource: Declared) -> tuple[str, dict]:
    """Outputs in which images are their names: the containers then name them as compose does."""
    outputs = dict(resource.inputs)
    if resource.type == REMOTE_IMAGE:
        outputs["imageId"] = resource.inputs["name"]
    if resource.type == IMAGE:
        outputs["repoDigest"] = resource.inputs["imageName"]
    return f"{resource.name}-id", outputs


class ComposeStack:
    def __init__(self, prefix: str, workdir: Path, command: list[str], app_image: str):
        self.config = {**isolated(prefix), "appImageName": app_image}
        self.command = [*command, "--project-name", prefix.rstrip("-"), "--file"]
        self.workdir = workdir
        run = run_program(self.config, provision=_named_images)
        self.app = self.config["appContainerName"]
        self.volume = self.config["volumeName"]
        compose = self._compose_file(run)
        (workdir / "docker-compose.yml").write_text(yaml.safe_dump(compose), encoding="utf-8")
        self.command.append(str(workdir / "docker-compose.yml"))

    def _compose_file(self, run) -> dict:
        (network,) = run.of_type(NETWORK)
        volumes = {v.inputs["name"]: v.name for v in run.of_type(VOLUME)}
        containers = run.of_type(CONTAINER)
        names = {c.name: c.inputs["name"] for c in containers}
        services = {}
        for container in containers:
            inputs = unwrap_secrets(container.inputs)
            service = {
                "container_name": inputs["name"],
                "image": inputs["image"],
                "environment": inputs.get("envs") or [],
                "restart": inputs["restart"],
                "logging": {"driver": inputs["logDriver"]},
                "networks": {
                    "rede": {"aliases": inputs["networksAdvanced"][0].get("aliases") or []}
                },
                "volumes": [
                    *(f"{volumes[m['source']]}:{m['target']}" for m in inputs.get("mounts") or []),
                    *self._files(container.name, inputs.get("uploads") or []),
                ],
                "ports": [
                    f"{p['ip']}:{int(p['external'])}:{int(p['internal'])}"
                    for p in inputs.get("ports") or []
                ],
                "stop_grace_period": f"{int(inputs.get('destroyGraceSeconds') or 0)}s",
            }
            if inputs.get("entrypoints"):
                service["entrypoint"] = inputs["entrypoints"]
            check = inputs.get("healthcheck")
            if check:
                service["healthcheck"] = {
                    "test": check["tests"],
                    "start_period": check["startPeriod"],
                    **COMPOSE_HEALTH,
                }
            after = [names[getattr(d, "_name", "")] for d in container.options.depends_on or []]
            if after:
                service["depends_on"] = {name: {"condition": "service_healthy"} for name in after}
            services[inputs["name"]] = service
        return {
            "version": "2.4",  # depends_on conditions, in docker-compose 1.29
            "services": services,
            "networks": {"rede": {"name": network.inputs["name"], "driver": "bridge"}},
            "volumes": {key: {"name": name} for name, key in volumes.items()},
        }

    def _files(self, resource: str, uploads: list[dict]) -> list[str]:
        """Each upload as a file of its own, bound read-only where the stack uploads it."""
        mounts = []
        for upload in uploads:
            local = self.workdir / resource / upload["file"].lstrip("/")
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_text(upload["content"], encoding="utf-8")
            local.chmod(0o644)  # as the provider uploads it: the app's user reads it
            mounts.append(f"{local}:{upload['file']}:ro")
        return mounts

    def _compose(self, *args: str) -> None:
        subprocess.run([*self.command, *args], check=True, capture_output=True, timeout=600)

    def up(self) -> None:
        self._compose("up", "--detach")

    def down(self) -> None:
        self._compose("down")

    def reset(self) -> None:
        self._compose("down", "--volumes")

    close = reset


class HarnessStack:
    """The harness's up and destroy, as the e2e tests use them."""

    def __init__(self, client: docker.DockerClient):
        self._factory = StackFactory(client, engine=HARNESS_ENGINE)
        self._stack = self._factory.make(up=False)
        self.app = self._stack.container_name("app")
        self.volume = self._stack.config.volume_name
        self.app_image = self._stack.config.app_image_name

    def up(self) -> None:
        self._stack.up()

    def down(self) -> None:
        self._stack.destroy()

    def reset(self) -> None:
        self._stack.destroy()
        for volume in (self._stack.volume(), self._stack.volume(backups=True)):
            if volume is not None:
                volume.remove()

    def close(self) -> None:
        self._factory.close()
