"""The two load generators: wrk against HTTP, pgbench against PostgreSQL.

Both are run at the same fixed concurrency, for a fixed time, against
127.0.0.1 only, and both report the same figures: requests (or transactions)
per second, p50 and p99 latency, errors.
"""

import json
import os
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

WRK_SCRIPT = Path(__file__).with_name("wrk") / "case.lua"
# A request slower than this is a timeout; generous, so the seed-style server's
# slow whole-table reads are measured rather than cut off.
WRK_TIMEOUT = "10s"


@dataclass
class Measurement:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Summary:
    """The runs of one case: the median of each figure, the sum of requests and errors.

    The median rather than one run's figures: p50 in particular moves between
    runs with how gunicorn's workers happened to split wrk's connections."""

    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    runs: int

    @classmethod
    def of(cls, runs: list[Measurement]) -> "Summary":
        return cls(
            rate=statistics.median(m.rate for m in runs),
            p50_ms=statistics.median(m.p50_ms for m in runs),
            p99_ms=statistics.median(m.p99_ms for m in runs),
            errors=sum(m.errors for m in runs),
            requests=sum(m.requests for m in runs),
            runs=len(runs),
        )

    @property
    def tail(self) -> float:
        return self.p99_ms / self.p50_ms if self.p50_ms else float("inf")


@dataclass(frozen=True)
class Load:
    """How hard every case is driven: the same for wrk and pgbench."""

    connections: int
    threads: int
    seconds: int


def run_wrk(
    url: str,
    load: Load,
    *,
    post: bool = False,
    run_id: str = "run",
    random_after: int | None = None,
) -> Measurement:
    """`random_after`: each request appends a number from 0 to it to the URL."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"load is only ever aimed at 127.0.0.1, not {url}")
    env = {
        **os.environ,
        "BENCH_POST": "1" if post else "0",
        "BENCH_RUN_ID": run_id,
        "BENCH_RANDOM_AFTER": "" if random_after is None else str(random_after),
    }
    command = [
        "wrk",
        f"--threads={load.threads}",
        f"--connections={load.connections}",
        f"--duration={load.seconds}s",
        f"--timeout={WRK_TIMEOUT}",
        f"--script={WRK_SCRIPT}",
        url,
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=True, timeout=load.seconds + 60
    )
    line = next(
        (line for line in done.stdout.splitlines() if line.startswith("BENCH_RESULT ")), None
    )
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("BENCH_RESULT "))
    socket_errors = sum(
        raw[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return Measurement(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        errors=raw["not_2xx"] + socket_errors,
    )


def _pgbench(bindir: Path, dsn: dict) -> tuple[list[str], dict]:
    if dsn["host"] != "127.0.0.1":
        raise ValueError(f"load is only ever aimed at 127.0.0.1, not {dsn['host']}")
    env = {**os.environ, "PGPASSWORD": dsn["password"]}
    command = [
        str(bindir / "pgbench"),
        "-h",
        dsn["host"],
        "-p",
        str(dsn["port"]),
        "-U",
        dsn["user"],
    ]
    return command, env


def init_pgbench(bindir: Path, dsn: dict) -> None:
    """pgbench's tables (scale 1: 100,000 accounts) in the app's database, beside its own."""
    command, env = _pgbench(bindir, dsn)
    subprocess.run(
        [*command, "--initialize", "--quiet", "--scale=1", dsn["dbname"]],
        env=env,
        capture_output=True,
        check=True,
        timeout=300,
    )


def run_pgbench(bindir: Path, dsn: dict, load: Load, workdir: Path) -> Measurement:
    """`pgbench -S` (select only), every transaction's latency logged to take percentiles."""
    command, env = _pgbench(bindir, dsn)
    prefix = workdir / f"pgbench-{dsn['dbname']}"
    for old in workdir.glob(f"{prefix.name}.*"):
        old.unlink()
    done = subprocess.run(
        [
            *command,
            "--select-only",
            f"--client={load.connections}",
            f"--jobs={load.threads}",
            f"--time={load.seconds}",
            "--log",
            f"--log-prefix={prefix}",
            dsn["dbname"],
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=load.seconds + 60,
    )
    # Per transaction: client, number, latency in microseconds, script, epoch s, epoch us.
    latencies = []
    for log in workdir.glob(f"{prefix.name}.*"):
        with log.open() as lines:
            latencies += [int(line.split()[2]) for line in lines]
        log.unlink()
    failed = _pgbench_field(done.stdout, "number of failed transactions:")
    tps = _pgbench_field(done.stdout, "tps =")
    return Measurement(
        requests=len(latencies),
        seconds=len(latencies) / tps,
        p50_ms=statistics.median(latencies) / 1000,
        p99_ms=statistics.quantiles(latencies, n=100)[98] / 1000,
        errors=int(failed),
    )


def _pgbench_field(output: str, label: str) -> float:
    for line in output.splitlines():
        if line.startswith(label):
            return float(line.removeprefix(label).split()[0])
    raise RuntimeError(f"pgbench printed no {label!r}:\n{output}")
