"""Copies of the project's app, changed, for tests that build a new image of it, and
the containers such a build leaves."""

import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
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


def app_with_a_new_step(tmp_path: Path) -> Path:
    """An app/ whose Dockerfile ends with a step no cache holds."""
    return app_copy(tmp_path, "Dockerfile", f"\nRUN echo uncached-{secrets.token_hex(6)}\n")


@contextmanager
def containers_made(client) -> Iterator[list]:
    """The engine's containers, whatever their names, made while the block runs; the
    list is filled in when the block ends. A classic build keeps one for every step not
    in cache, not only the last, so a test that cleans up removes them all."""
    before = {c.id for c in client.containers.list(all=True, ignore_removed=True)}
    made: list = []
    try:
        yield made
    finally:
        made.extend(
            container
            for container in client.containers.list(all=True, ignore_removed=True)
            if container.id not in before
        )
