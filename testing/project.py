"""Copies of the project's app, changed, for tests that build a new image of it."""

import secrets
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def app_copy(tmp_path: Path, file: str, appended: str) -> Path:
    """The project's app/ (and Pulumi.yaml) copied, one of its files changed; for
    `harness.build_from`."""
    shutil.copytree(PROJECT_ROOT / "app", tmp_path / "app")
    with (tmp_path / "app" / file).open("a", encoding="utf-8") as changed:
        changed.write(appended)
    shutil.copy(PROJECT_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


def app_with_a_new_step(tmp_path: Path) -> tuple[Path, str]:
    """An app/ whose Dockerfile ends with a step no cache holds, and the word that step
    echoes: every container a build runs for it has that word in its command."""
    word = f"uncached-{secrets.token_hex(6)}"
    return app_copy(tmp_path, "Dockerfile", f"\nRUN echo {word}\n"), word


def containers_running(client, word: str) -> list[str]:
    """Every container of the engine, whatever its name, whose command holds word."""
    found = []
    for container in client.containers.list(all=True, ignore_removed=True):
        config = container.attrs.get("Config") or {}
        command = " ".join([*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])])
        if word in command:
            found.append(container.id)
    return found
