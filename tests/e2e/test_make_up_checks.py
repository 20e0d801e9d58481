"""`make up` checks what it needs before it touches anything, and says in one line
what is missing and how to get it."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import PROJECT_ROOT

pytestmark = pytest.mark.e2e

# What make and scripts/preflight.sh run; `pulumi` is left out on purpose.
TOOLS = ("make", "bash", "env", "sed", "sort", "head", "dirname", "docker")


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
