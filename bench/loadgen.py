"""The two load generators: wrk against HTTP, pgbench against PostgreSQL.

Both are run at the same fixed concurrency, for a fixed time, against
127.0.0.1 only, and both report the same figures: requests (or transactions)
per second, p50 and p99 latency, errors.
"""

import collections
import json
import math
import os
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

WRK_SCRIPT = Path(__file__).with_name("wrk") / "case.lua"
# A request slower than this is a timeout; generous, so the seed-style server's
# slow whole-table reads are measured rather than cut off.
WRK_TIMEOUT = "10s"
# Latencies are kept as histograms with buckets 1% wide, so that several runs
# can be pooled and their percentiles taken over every request.
BUCKET_GROWTH = 1.01
_LOG_GROWTH = math.log(BUCKET_GROWTH)


def bucket(microseconds: float) -> int:
    return math.floor(math.log(microseconds + 1) / _LOG_GROWTH)


def _shares(quantiles_us: list[int]) -> dict[int, float]:
    shares = collections.Counter(bucket(value) for value in quantiles_us)
    return {index: count / len(quantiles_us) for index, count in shares.items()}


def percentile_ms(histogram: collections.Counter, percent: float) -> float:
    """The latency under which `percent` of the requests in `histogram` finished."""
    rank = sum(histogram.values()) * percent / 100
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return (math.exp((index + 0.5) * _LOG_GROWTH) - 1) / 1000  # the bucket's middle
    return 0.0


@dataclass
class Measurement:
    """One run: its own p50 and p99, and its latency histogram for pooling."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    histogram: collections.Counter = field(default_factory=collections.Counter)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Summary:
    """The runs of one case: the median throughput, p50 and p99 over every
    request of every run, and the sum of requests and errors.

    Percentiles over the pooled requests, not one run's: with keep-alive, each
    of gunicorn's workers serves the connections it happened to accept, and an
    uneven split moves one run's p50 by a third either way."""

    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    runs: int

    @classmethod
    def of(cls, runs: list[Measurement]) -> "Summary":
        pooled = sum((m.histogram for m in runs), collections.Counter())
        return cls(
            rate=statistics.median(m.rate for m in runs),
            p50_ms=percentile_ms(pooled, 50),
            p99_ms=percentile_ms(pooled, 99),
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
        # Each of the evenly spaced quantiles stands for an equal share of the requests.
        histogram=collections.Counter(
            {
                index: raw["requests"] * share
                for index, share in _shares(raw["quantiles_us"]).items()
            }
        ),
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
    histogram = collections.Counter()
    for log in workdir.glob(f"{prefix.name}.*"):
        with log.open() as lines:
            histogram.update(bucket(int(line.split()[2])) for line in lines)
        log.unlink()
    failed = _pgbench_field(done.stdout, "number of failed transactions:")
    tps = _pgbench_field(done.stdout, "tps =")
    transactions = sum(histogram.values())
    return Measurement(
        requests=transactions,
        seconds=transactions / tps,
        p50_ms=percentile_ms(histogram, 50),
        p99_ms=percentile_ms(histogram, 99),
        errors=int(failed),
        histogram=histogram,
    )


def _pgbench_field(output: str, label: str) -> float:
    for line in output.splitlines():
        if line.startswith(label):
            return float(line.removeprefix(label).split()[0])
    raise RuntimeError(f"pgbench printed no {label!r}:\n{output}")
