"""`make bench` still runs: the whole benchmark on tiny sizes and one-second
cases. It checks that the command works and writes its table and chart, not
how fast anything is: the figures come from the full run (bench/README.md)."""

import shutil
import subprocess
import sys

from bench.cases import CASES, PGBENCH
from testing.availability import require
from testing.postgres_server import REPO_ROOT, find_bindir

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Only a guard against a hang, never a figure: generous on a loaded machine, and
# under pytest's own 600 s so that the benchmark's output is still shown.
HANG_GUARD_SECONDS = 540


def test_the_benchmark_runs_on_tiny_sizes_and_writes_its_results(tmp_path):
    require(shutil.which("wrk") is not None, "wrk is not installed (apt-get install -y wrk)")
    bindir = find_bindir()
    require(
        bindir is not None and (bindir / "pgbench").exists(),
        "PostgreSQL server binaries with pgbench not found (apt-get install -y postgresql-15)",
    )
    command = [
        sys.executable,
        "-m",
        "bench",
        "--sizes=60,200",
        "--seconds=1",
        "--warmup=0",
        "--repeat=1",
        "--retries=0",
        "--connections=4",
        f"--out-dir={tmp_path}",
    ]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=HANG_GUARD_SECONDS
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    results = (tmp_path / "results.md").read_text(encoding="utf-8")
    every_case, cpu = results.split("## Every case")[1].split("## CPU per request")
    table = [line for line in every_case.splitlines() if line.startswith(("| 60 ", "| 200 "))]
    # At 60 users: pgbench, every case on the app, and on the seed-style server
    # the cases it takes; at 200 users: pgbench and every case on the app.
    seed_cases = [case for case in CASES if case.on_seed]
    assert len(table) == (1 + len(CASES) + len(seed_cases)) + (1 + len(CASES)), results
    for case in [PGBENCH, *(case.name for case in CASES)]:
        assert f"`{case}`" in results
    assert all(" 0 of " in line for line in table), "a case had errors:\n" + "\n".join(table)
    assert "## Targets (issue #5)" in results and "15×" in results
    cpu_rows = [line for line in cpu.splitlines() if line.startswith(("| 60 ", "| 200 "))]
    assert len(cpu_rows) == len(table)
    assert (tmp_path / "results.png").read_bytes().startswith(PNG_SIGNATURE)
