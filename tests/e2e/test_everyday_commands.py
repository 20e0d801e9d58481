"""`make status`, `make psql` and `make logs` against the real stack, pointed at
its isolated containers by the environment (never at the user's)."""

import os
import signal
import subprocess
import threading
from collections import Counter
from pathlib import Path

from testing.live import ROLES, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
TAIL = 5


def make(stack, target: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=REPO_ROOT,
        env=stack.script_env(),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_shows_each_container_running_and_healthy(live_stack):
    for role in ("db", "app"):
        live_stack.wait_healthy(role)
    result = make(live_stack, "status")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for role, health in (("db", "healthy"), ("app", "healthy"), ("reader", "-")):
        name = live_stack.container_name(role)
        row = next(line.split() for line in lines if line.split()[:1] == [name])
        assert row[1:3] == ["running", health]
    assert f"{live_stack.config.volume_name}: present" in result.stdout


def test_status_fails_when_a_container_is_missing(live_stack):
    env = live_stack.script_env(READER_CONTAINER=f"{live_stack.prefix}nao-existe")
    result = subprocess.run(
        ["make", "--no-print-directory", "status"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"{live_stack.prefix}nao-existe" in result.stdout and "missing" in result.stdout


def test_psql_runs_sql_on_the_stack_database(live_stack):
    result = make(live_stack, "psql", stdin="SELECT 'ok:' || count(*) FROM usuarios;\n")
    assert result.returncode == 0, result.stderr
    count = live_stack.psql("SELECT count(*) FROM usuarios")
    assert f"ok:{count}" in result.stdout


def test_logs_follows_every_container_with_its_name(live_stack):
    live_stack.wait_for("/status")
    names = {live_stack.container_name(role) for role in ROLES}
    reader = live_stack.container_name("reader")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "logs"],
        cwd=REPO_ROOT,
        env=live_stack.script_env(TAIL=str(TAIL)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, to stop it and its children
    )
    lines: list[str] = []

    def collect() -> None:
        for line in process.stdout:
            lines.append(line)

    threading.Thread(target=collect, daemon=True).start()

    def prefixes() -> Counter:
        return Counter(line.split(" | ", 1)[0].strip() for line in list(lines) if " | " in line)

    try:
        # More reader lines than the TAIL it started with: it is following, and the
        # reader writes a line a second (FAST_SETTINGS), so this comes soon.
        wait_until(
            lambda: names <= set(prefixes()) and prefixes()[reader] > TAIL,
            timeout=60,
            what=f"make logs to show every container and follow {reader}",
        )
        assert process.poll() is None, "make logs should keep following"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
