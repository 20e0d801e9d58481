"""`make bench-lifecycle` still runs: one round beside docker compose, through the e2e
harness (CI has no Pulumi CLI). It checks that the command works and writes its
section, not how fast anything is: the figures come from a run by hand."""

import shutil
import subprocess
import sys

from bench.lifecycle import OPERATIONS
from bench.sections import LIFECYCLE
from testing.availability import require
from testing.postgres_server import REPO_ROOT

HANG_GUARD_SECONDS = 540


def test_the_lifecycle_benchmark_runs_a_round_and_writes_its_section(docker_engine, tmp_path):
    require(
        shutil.which("docker-compose") is not None,
        "docker-compose is not installed (apt-get install -y docker-compose)",
    )
    out = tmp_path / "results.md"
    out.write_text("# Benchmark results\n\n## Targets (issue #5)\n\nkept\n", encoding="utf-8")
    command = [sys.executable, "-m", "bench.lifecycle", "--rounds=1", "--engine=harness"]
    done = subprocess.run(
        [*command, f"--out={out}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_SECONDS,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = out.read_text(encoding="utf-8")
    assert "## Targets (issue #5)\n\nkept\n" in results
    lifecycle = results.split(LIFECYCLE, 1)[1]
    assert "this stack through the e2e harness" in lifecycle
    rows = [line for line in lifecycle.splitlines() if line.startswith("| ") and " s |" in line]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == [label for _, label in OPERATIONS]
