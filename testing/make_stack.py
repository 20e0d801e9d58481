"""`make up` and `make down` as a user runs them, through the real Pulumi CLI, on a
stack of their own: isolated names and a free port (testing/live/config.py), a file
backend in a folder of the caller's, a passphrase of its own. For the lifecycle
benchmark (bench/lifecycle.py) and the tests of what `make up` itself prints and
how it exits (tests/e2e/test_make_up.py); both need the CLI (testing/pulumi_cli.py).

Pulumi keeps a stack's config beside Pulumi.yaml, so the stack's file,
Pulumi.<stack>.yaml, is in the checkout (ignored by git) until `close()`.
"""

import contextlib
import os
import secrets
import subprocess
from pathlib import Path

import docker

from infra.settings import SECRETS, backup_volume_name
from testing.live import FAST_SETTINGS, isolated_config, sweep
from testing.postgres_server import REPO_ROOT


def isolated(prefix: str) -> dict[str, object]:
    """The program's defaults, but every name it makes starts with prefix, on a free port."""
    return {key: v for key, v in isolated_config(prefix).items() if key not in FAST_SETTINGS}


class MakeStack:
    """`up()`, `down()`, `reset()` (down, and the volumes removed: what a cold up starts
    from), `close()` (everything it made gone), and `make(target)` for what make printed
    and how it exited. `app` and `app_image` name the app's container and image."""

    def __init__(self, prefix: str, workdir: Path, client: docker.DockerClient, **config):
        self.client = client
        self.name = prefix.rstrip("-")
        self.config = {**isolated(prefix), **config}
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
        # make generates the passwords, as on a user's first make up; the rest in one call.
        self.make("stack", check=True)
        settings = [f"{key}={value}" for key, value in self.config.items() if key not in SECRETS]
        self._pulumi("config", "set-all", *(arg for s in settings for arg in ("--plaintext", s)))

    def make(self, target: str, check: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", "--no-print-directory", target, f"STACK={self.name}"],
            cwd=REPO_ROOT,
            env=self.env,
            check=check,
            capture_output=True,
            text=True,
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
        self.make("up", check=True)

    def down(self) -> None:
        self.make("down", check=True)

    def reset(self) -> None:
        self.down()
        for volume in (self.volume, backup_volume_name(self.volume)):
            with contextlib.suppress(docker.errors.NotFound):
                self.client.volumes.get(volume).remove()

    def close(self) -> None:
        try:
            self.make("down")
            self._pulumi("stack", "rm", "--yes", "--force")
        finally:
            (REPO_ROOT / f"Pulumi.{self.name}.yaml").unlink(missing_ok=True)
            sweep(self.client, self.name)
