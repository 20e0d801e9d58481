"""`make up` checks what it needs before it touches anything, and says in one line
what is missing and how to get it."""

import shutil
import subprocess
from pathlib import Path

import pytest

from testing.harness import PROJECT_ROOT
from testing.preflight import TOOLS, preflight_on_a_swarm

pytestmark = pytest.mark.e2e


def make_up(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "up",
            f"VENV={tmp_path / 'venv'}",
            f"PASSPHRASE_FILE={tmp_path / 'passphrase'}",
        ],
        cwd=PROJECT_ROOT,
        env={"PATH": str(bin_dir), "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def lines_of_ours(result: subprocess.CompletedProcess) -> list[str]:
    # make adds its own "*** [Makefile:N: preflight] Error 1" after ours.
    return [line for line in result.stderr.splitlines() if "***" not in line]


def test_without_the_pulumi_cli_make_up_says_so_and_makes_nothing(docker_engine, tmp_path):
    result = make_up(tmp_path)
    assert (result.returncode, lines_of_ours(result), result.stdout) == (
        2,
        [
            "make: cannot start: the Pulumi CLI is not installed: install 3.272.0 or newer "
            "(https://www.pulumi.com/docs/install/), then run make up again"
        ],
        "",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]


def test_without_a_docker_engine_make_up_says_so_and_makes_nothing(tmp_path):
    result = make_up(tmp_path, DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock")
    (line,) = lines_of_ours(result)
    assert (result.returncode, line.split(":")[1:3]) == (
        2,
        [" cannot start", " no Docker engine answers at unix"],
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]


def test_the_minimum_cli_is_the_pinned_sdk(tmp_path):
    pinned = next(
        line.split("==")[1].strip()
        for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
        if line.startswith("pulumi==")
    )
    assert f"The [Pulumi CLI](https://www.pulumi.com/docs/install/), {pinned} or newer" in (
        PROJECT_ROOT / "README.md"
    ).read_text(encoding="utf-8")


def test_on_a_swarm_make_up_wants_a_manager(docker_engine, tmp_path):
    # The suite's engine is no swarm manager (the test swarm's nodes are engines of their own).
    result = preflight_on_a_swarm(tmp_path, "desafio2.db")
    assert (result.returncode, result.stderr.strip()) == (
        1,
        "make: cannot start: target is swarm, but the Docker engine is not a swarm manager: "
        "point DOCKER_HOST at one (docs/swarm.md)",
    )


def test_on_a_swarm_make_up_wants_the_database_label_on_the_manager(swarm_cluster, tmp_path):
    label = f"preflight-{tmp_path.name[-6:].lower()}.db"
    manager = {"DOCKER_HOST": swarm_cluster.manager.engine_url}
    missing = preflight_on_a_swarm(tmp_path / "before", label, **manager)
    swarm_cluster.label(swarm_cluster.manager, label, "true")
    labelled = preflight_on_a_swarm(tmp_path / "after", label, **manager)
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        f"make: cannot start: target is swarm, but manager, the manager that will hold the "
        f"database's volume, lacks the label {label}=true: "
        f"docker node update --label-add {label}=true manager",
    )
    assert (labelled.returncode, labelled.stderr) == (0, "")
