"""Where the app's CPU goes under load: py-spy samples gunicorn's workers
(only the thread holding the GIL, so idle waits on the database or the
socket do not count) while wrk drives one case, and the samples are summed
per function."""

import collections
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bench.loadgen import Load, run_wrk

PY_SPY = Path(sys.executable).with_name("py-spy")
SAMPLES_PER_SECOND = 200
# "function (path/to/file.py:123)" -> "function (file.py)": lines of one function add up.
# Frames every thread's samples pass through: they would top the inclusive list.
BOILERPLATE = re.compile(
    r"^(Thread\._bootstrap\w*|Thread\.run|_worker) \((threading|concurrent/futures/thread)\.py"
)
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^:()]*)(?::\d+)?\)$")


def available() -> bool:
    return PY_SPY.exists() or shutil.which("py-spy") is not None


def profile(master_pid: int, url: str, load: Load, workdir: Path) -> dict:
    raw = workdir / "profile.txt"
    command = [
        str(PY_SPY) if PY_SPY.exists() else "py-spy",
        "record",
        f"--pid={master_pid}",
        "--subprocesses",
        "--gil",
        "--nonblocking",
        f"--rate={SAMPLES_PER_SECOND}",
        f"--duration={load.seconds}",
        "--format=raw",
        f"--output={raw}",
    ]
    sampler = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        measurement = run_wrk(url, load)
        _, errors = sampler.communicate(timeout=load.seconds + 60)
    finally:
        if sampler.poll() is None:
            sampler.kill()
            sampler.wait(timeout=10)
    if sampler.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace')[-2000:]}")
    return {"measurement": measurement, **summarize(raw.read_text())}


def _name(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    return f"{match['function']} ({Path(match['file']).name})"


# Where a sample's innermost frame lives, by the first part of its file's path.
PACKAGES = {
    "gunicorn": "gunicorn",
    "flask": "Flask and Werkzeug",
    "werkzeug": "Flask and Werkzeug",
    "desafio2": "the app (app/desafio2/)",
    "psycopg2": "psycopg2",
}
OTHER_PACKAGE = "Python's standard library (threads, selectors, logging, ...)"


def _package(frame: str) -> str:
    match = FRAME.match(frame)
    first = match["file"].split("/")[0] if match else ""
    return PACKAGES.get(first, OTHER_PACKAGE)


def summarize(collapsed: str) -> dict:
    """Self and inclusive shares of the samples, per function, and self per package."""
    own, inclusive, packages = collections.Counter(), collections.Counter(), collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [
            frame
            for frame in stack.split(";")
            if not frame.startswith("process ") and not BOILERPLATE.match(frame)
        ]
        if not frames:
            continue
        total += int(count)
        own[_name(frames[-1])] += int(count)
        packages[_package(frames[-1])] += int(count)
        for name in {_name(frame) for frame in frames}:
            inclusive[name] += int(count)
    return {"samples": total, "self": own, "inclusive": inclusive, "packages": packages}


def markdown(summary: dict, top: int = 15) -> str:
    total = summary["samples"] or 1
    shares = ", ".join(
        f"{name} {count / total:.0%}" for name, count in summary["packages"].most_common()
    )
    lines = [
        f"By package, in the innermost frame: {shares}.",
        "",
        "| self | function | | inclusive | function |",
        "|---:|---|---|---:|---|",
    ]
    own = summary["self"].most_common(top)
    inclusive = summary["inclusive"].most_common(top)
    for (own_name, own_count), (inc_name, inc_count) in zip(own, inclusive, strict=False):
        lines.append(
            f"| {own_count / total:.1%} | `{own_name}` | | {inc_count / total:.1%} | `{inc_name}` |"
        )
    return "\n".join(lines)
