"""The two stacks `make bench-lifecycle` times, each with names and a port of its own:

- `ComposeStack`: docker compose running the containers the program declares (its
  images, environment, files, volume, network, aliases, ports and start order),
  with the health checks this stack had before it shortened them: every 5 s, 3 s
  timeout, 5 retries;
- ours: `MakeStack`, `make up` and `make down` on a stack of their own in a
  temporary Pulumi backend, when the real Pulumi CLI is installed; else
  `HarnessStack`, the e2e harness (testing/harness), the stand-in for Pulumi and
  its docker provider that the tests use.

Each has `up()`, `down()`, `reset()` (down, and the volume removed: what a cold up
starts from), `close()` (everything it made gone) and `app`, the name of the app's
container, and `app_image`, the app image's name.
"""

import contextlib
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import docker
import yaml

from infra.settings import SECRETS, backup_volume_name
from testing.harness import CONTAINER, IMAGE, NETWORK, REMOTE_IMAGE, VOLUME
from testing.live import FAST_SETTINGS, HARNESS_ENGINE, StackFactory, isolated_config, sweep
from testing.postgres_server import REPO_ROOT
from testing.program import Declared, run_program, unwrap_secrets

# The stack's health checks before issue 18, for docker compose.
COMPOSE_HEALTH = {"interval": "5s", "timeout": "3s", "retries": 5}


def isolated(prefix: str) -> dict[str, object]:
    """The program's defaults, but every name it makes starts with prefix, on a free port."""
    return {key: v for key, v in isolated_config(prefix).items() if key not in FAST_SETTINGS}


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


class MakeStack:
    """`make up` and `make down`, as a user runs them, on a stack of its own."""

    def __init__(self, prefix: str, workdir: Path, client: docker.DockerClient):
        self.client = client
        self.name = prefix.rstrip("-")
        self.config = isolated(prefix)
        self.app = self.config["appContainerName"]
        self.app_image = self.config["appImageName"]
        self.volume = self.config["volumeName"]
        self.env = {
            **os.environ,
            "STACK": self.name,
            "PULUMI_BACKEND_URL": f"file://{workdir / 'backend'}",
            "PULUMI_CONFIG_PASSPHRASE": secrets.token_urlsafe(24),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }
        (workdir / "backend").mkdir()
        self._make("stack")
        for key, value in self.config.items():
            if key not in SECRETS:
                self._pulumi("config", "set", key, str(value))

    def _make(self, target: str) -> None:
        subprocess.run(
            ["make", "--no-print-directory", target, f"STACK={self.name}"],
            cwd=REPO_ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=900,
        )

    def _pulumi(self, *args: str) -> None:
        subprocess.run(
            ["pulumi", "--non-interactive", *args, "--stack", self.name],
            cwd=REPO_ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=300,
        )

    def up(self) -> None:
        self._make("up")

    def down(self) -> None:
        self._make("down")

    def reset(self) -> None:
        self._make("down")
        for volume in (self.volume, backup_volume_name(self.volume)):
            with contextlib.suppress(docker.errors.NotFound):
                self.client.volumes.get(volume).remove()

    def close(self) -> None:
        self._make("down")
        self._pulumi("stack", "rm", "--yes", "--force")
        (REPO_ROOT / f"Pulumi.{self.name}.yaml").unlink(missing_ok=True)
        sweep(self.client, self.name)


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
