"""Whether this machine can run the real Pulumi engine for the project: the Pulumi
CLI at least as new as the SDK requirements.txt pins, its Python language host,
and the docker provider plugin at the version it pins, all installed (none can
be downloaded here).
"""

import dataclasses
import json
import os
import shutil
import subprocess

from testing.postgres_server import REPO_ROOT


def pinned(package: str) -> str:
    for line in (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].split()[0]
    raise LookupError(f"requirements.txt pins no {package}")


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.lstrip("v").split("-")[0].split(".")[:3])


@dataclasses.dataclass(frozen=True)
class PulumiCLI:
    path: str
    version: str  # e.g. v3.274.1
    docker_plugin: str  # e.g. 5.2.0

    def describe(self) -> str:
        return f"the Pulumi CLI {self.version} with pulumi-docker {self.docker_plugin}"


def find() -> tuple[PulumiCLI | None, str]:
    """The CLI when it can run the project, else None; and why, in one line."""
    path = shutil.which("pulumi")
    if path is None:
        return None, "no Pulumi CLI on PATH"
    try:
        version = subprocess.run(
            [path, "version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
        plugins = json.loads(
            subprocess.run(
                [path, "plugin", "ls", "--json"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout
            or "[]"
        )
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        return None, f"the Pulumi CLI at {path} does not answer: {error}"
    sdk, docker = pinned("pulumi"), pinned("pulumi-docker")
    if version_tuple(version) < version_tuple(sdk):
        return None, f"the Pulumi CLI {version} is older than the SDK this project pins ({sdk})"
    if not _language_host(path, plugins):
        return None, (
            f"the Pulumi CLI {version} has no Python language host "
            "(pulumi-language-python beside the CLI, on PATH, or as a language plugin)"
        )
    found = {
        p.get("version")
        for p in plugins
        if (p.get("kind"), p.get("name")) == ("resource", "docker")
    }
    if docker not in found:
        return None, (
            f"the Pulumi CLI {version} has no docker plugin {docker} installed "
            f"(found: {', '.join(sorted(v for v in found if v)) or 'none'})"
        )
    return PulumiCLI(path, version, docker), f"the Pulumi CLI {version} with pulumi-docker {docker}"


def _language_host(cli: str, plugins: list[dict]) -> bool:
    """Where the CLI looks for the Python language host: its plugin directory, the
    CLI's own directory (where its releases ship it), then PATH."""
    if any((p.get("kind"), p.get("name")) == ("language", "python") for p in plugins):
        return True
    folders = {os.path.dirname(cli), os.path.dirname(os.path.realpath(cli))}
    beside = [os.path.join(folder, "pulumi-language-python") for folder in folders]
    return any(os.access(path, os.X_OK) for path in beside) or bool(
        shutil.which("pulumi-language-python")
    )
