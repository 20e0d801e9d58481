"""One run of the benchmark: data at each size, every case against the app,
the seed-style baseline at the smallest size, pgbench -S as the ceiling, then
bench/results.md and bench/results.png.

Everything runs on this machine: a throwaway PostgreSQL 15 with its durable
defaults (testing/postgres_server.py), the app under gunicorn with the
image's configuration, and the load generators, aimed at 127.0.0.1 only.
"""

import argparse
import contextlib
import datetime
import importlib.metadata
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from bench import cases, dataset, loadgen, machine, profile, report, sections, servers
from bench.cases import APP, CASES, DATABASE, PGBENCH, SEED, Result
from testing.postgres_server import PostgresServer, find_bindir

BENCH_DIR = Path(__file__).resolve().parent
# Stated rather than inherited, so the results say what they were measured
# with: every commit waits for its WAL to reach the disk (no shortcut).
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
# Other processes' CPU during a measurement above which it is taken again.
QUIET_CORES = 0.15
SHOWN_SETTINGS = (
    "server_version",
    *DURABLE,
    "wal_sync_method",
    "shared_buffers",
    "max_connections",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--sizes",
        default="1000,1000000",
        help="users to load, comma-separated; the smallest also runs the seed-style server "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--seconds", type=int, default=5, help="per measurement (default: %(default)s)"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="seconds of load before a case is measured, 0 for none",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=10,
        # Many short runs rather than a few long ones: each run is one random
        # split of wrk's connections between gunicorn's workers, which moves p50.
        help="measurements per case, taken in turns; the throughput reported is their median, "
        "the latencies are over all their requests (default: %(default)s)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help=f"times a measurement is taken again while other processes use more than "
        f"{QUIET_CORES} cores (default: %(default)s)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=16,
        help="concurrent HTTP connections and pgbench clients",
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="wrk threads and pgbench jobs (default: 2)"
    )
    parser.add_argument(
        "--out-dir", type=Path, default=BENCH_DIR, help="where results.md and results.png go"
    )
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="profile the app with py-spy during one more run of the page case",
    )
    args = parser.parse_args(argv)
    try:
        args.sizes = sorted({int(size) for size in args.sizes.split(",")})
    except ValueError:
        parser.error("--sizes takes whole numbers separated by commas, such as 1000,1000000")
    if (
        args.sizes[0] < 1
        or args.seconds < 1
        or args.repeat < 1
        or min(args.warmup, args.retries) < 0
    ):
        parser.error(
            "sizes, --seconds and --repeat must be at least 1, --warmup and --retries at least 0"
        )
    if not 1 <= args.threads <= args.connections:
        parser.error("--threads must be between 1 and --connections")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bindir = find_bindir()
    missing = [
        problem
        for problem, absent in (
            ("wrk (apt-get install -y wrk)", shutil.which("wrk") is None),
            ("PostgreSQL 15 server binaries (apt-get install -y postgresql-15)", bindir is None),
            ("pgbench", bindir is None or not (bindir / "pgbench").exists()),
        )
        if absent
    ]
    if missing:
        print(f"bench: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    workdir = args.out_dir / ".work"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir()
    load = loadgen.Load(args.connections, args.threads, args.seconds)
    started = datetime.datetime.now(datetime.UTC)

    database = PostgresServer(bindir, settings=DURABLE).start()
    try:
        run = Run(args, load, database, bindir, workdir)
        run.all_sizes()
    finally:
        database.stop()
    write_results(args, load, run, started)
    return 0


@dataclass
class Job:
    """One thing to measure: `measure(run_id)` or `measure(run_id, load)` takes one measurement."""

    users: int
    server: str
    case: str
    measure: Callable
    warm: bool = True
    pid: int | None = None  # the HTTP server's; None for pgbench


class Run:
    def __init__(self, args, load, database: PostgresServer, bindir: Path, workdir: Path):
        self.args, self.load, self.database = args, load, database
        self.bindir, self.workdir = bindir, workdir
        self.results: list[Result] = []
        self.load_seconds: dict[int, float] = {}
        self.profile: dict | None = None
        self.run_id = f"{os.getpid()}{int(time.time())}"
        postmaster = int((database.datadir / "postmaster.pid").read_text().split()[0])
        self.meter = machine.CpuMeter(
            {os.getpid(): cases.LOAD_GENERATOR, postmaster: cases.POSTGRESQL}
        )
        self.settings = self._read_settings()

    def _read_settings(self) -> dict[str, str]:
        with self.database.connect() as cursor:
            shown = {}
            for name in SHOWN_SETTINGS:
                cursor.execute(f"SHOW {name}")
                shown[name] = cursor.fetchone()[0]
        return shown

    def log(self, message: str) -> None:
        print(f"bench: {message}", flush=True)

    def all_sizes(self) -> None:
        """Every size is loaded and served at once, and the measurements take
        turns: round after round, each case on each server at each size. A
        disturbance of the machine then spreads over all of them, instead of
        skewing one size against the other."""
        template = self.database.load_template("bench_template")
        dsns = {}
        for users in self.args.sizes:
            dbname = f"bench_{users}"
            self.database.create_database(dbname, template)
            self.log(f"loading {users:,} users and their logs")
            self.load_seconds[users] = dataset.load(self.database, dbname, users)
            self.log(f"loaded in {self.load_seconds[users]:.1f} s")
            dsns[users] = self.database.dsn(dbname)
            loadgen.init_pgbench(self.bindir, dsns[users])
        with self.database.connect() as cursor:
            # The loads' hundreds of megabytes go to disk now, not in the
            # middle of a measurement (a checkpoint, or the kernel's writeback).
            cursor.execute("CHECKPOINT")
        os.sync()
        self._rounds(
            [
                Job(users, DATABASE, PGBENCH, self._pgbench(dsn), warm=False)
                for users, dsn in dsns.items()
            ]
        )
        with contextlib.ExitStack() as stack:
            served = []
            for users, dsn in dsns.items():
                served.append(
                    (users, APP, stack.enter_context(servers.app_server(dsn, self.workdir)))
                )
                if users == self.args.sizes[0]:
                    seed = stack.enter_context(servers.seed_server(dsn, self.workdir))
                    served.append((users, SEED, seed))
            for users, server, running in served:
                preflight(running.url, server, users)
                self.meter.roots[running.pid] = f"{cases.SERVER} {running.pid}"
            # The writes last, so every read sees exactly the users loaded.
            for group in ([c for c in CASES if not c.post], [c for c in CASES if c.post]):
                self._rounds(
                    [
                        Job(
                            users,
                            server,
                            case.name,
                            self._wrk(running.url, case, users, server),
                            pid=running.pid,
                        )
                        for case in group
                        for users, server, running in served
                        if server == APP or case.on_seed
                    ]
                )
            self._profile(served)

    def _pgbench(self, dsn: dict):
        return lambda _run_id: loadgen.run_pgbench(self.bindir, dsn, self.load, self.workdir)

    def _wrk(self, url: str, case: cases.Case, users: int, server: str):
        def measure(run_id: str, load: loadgen.Load = self.load) -> loadgen.Measurement:
            return loadgen.run_wrk(
                url + case.path,
                load,
                post=case.post,
                # Unique per server, size and round: a POST's email must be new.
                run_id=f"{self.run_id}-{server}-{users}-{run_id}",
                random_after=max(0, users - cases.PAGE_LIMIT) if case.deep else None,
            )

        return measure

    def _rounds(self, jobs: list["Job"]) -> None:
        measured: dict[int, list] = {index: [] for index in range(len(jobs))}
        for round_number in range(self.args.repeat):
            for index, job in enumerate(jobs):
                if round_number == 0 and job.warm and self.args.warmup:
                    warm = loadgen.Load(self.load.connections, self.load.threads, self.args.warmup)
                    job.measure("w", warm)
                m, background, cpu = self._timed(job, f"r{round_number}")
                measured[index].append((m, background, cpu))
                self.log(
                    f"{job.users:,} users, {job.server}, {job.case}: {m.rate:,.0f}/s, "
                    f"p50 {m.p50_ms:.2f} ms, p99 {m.p99_ms:.2f} ms, {m.errors} errors, "
                    f"other load {background:.2f} cores"
                )
        for index, job in enumerate(jobs):
            runs, backgrounds, cpus = zip(*measured[index], strict=True)
            cpu_us = {group: statistics.median(cpu[group] for cpu in cpus) for group in cpus[0]}
            figures = loadgen.Summary.of(list(runs))
            self.results.append(
                Result(job.users, job.server, job.case, figures, max(backgrounds), cpu_us)
            )

    def _profile(self, served: list) -> None:
        if not (self.args.profile and profile.available()):
            return
        users, _, running = next(s for s in reversed(served) if s[1] == APP)
        self.log(f"profiling the app under {CASES[0].name} at {users:,} users")
        try:
            self.profile = profile.profile(
                running.pid, running.url + CASES[0].path, self.load, self.workdir
            )
            self.profile["users"] = users
        except RuntimeError as error:  # py-spy needs ptrace, which a sandbox may deny
            self.log(f"no profile: {error}")

    def _timed(self, job: Job, run_id: str) -> tuple[loadgen.Measurement, float, dict]:
        """A measurement, the cores other processes used meanwhile, and the CPU
        microseconds per request of the server, PostgreSQL and the load
        generator. While other processes used more than QUIET_CORES, the
        measurement is taken again, --retries times at most, and the quietest
        attempt is kept: the machine is shared."""
        attempts = []
        for attempt in range(self.args.retries + 1):
            self.meter.start()
            # Each attempt its own id: a POST taken again must not reuse its emails.
            measurement = job.measure(f"{run_id}a{attempt}")
            used, elapsed = self.meter.stop()
            per_request = 1e6 / max(1, measurement.requests)
            cpu = {
                part: used.get(f"{part} {job.pid}" if part == cases.SERVER else part, 0.0)
                * per_request
                for part in (cases.SERVER, cases.POSTGRESQL, cases.LOAD_GENERATOR)
            }
            attempts.append((measurement, used.get(machine.OTHERS, 0.0) / elapsed, cpu))
            if attempts[-1][1] <= QUIET_CORES:
                break
            self.log(f"other processes used {attempts[-1][1]:.2f} cores meanwhile")
        return min(attempts, key=lambda attempt: attempt[1])


def preflight(url: str, server: str, users: int) -> None:
    """One request per read case, checked, so a load run can only measure real answers."""
    page = requests.get(f"{url}/usuarios?limit=50", timeout=30)
    expected = users if server == SEED else min(50, users)
    if page.status_code != 200 or len(page.json()) != expected:
        raise RuntimeError(
            f"{server}: GET /usuarios?limit=50 gave {page.status_code}, not {expected} users"
        )
    if server == APP and users > 50 and 'rel="next"' not in page.headers.get("Link", ""):
        raise RuntimeError(f"{server}: GET /usuarios?limit=50 has no Link to the next page")
    status = requests.get(f"{url}/status", timeout=30)
    if status.status_code != 200 or status.json()["usuarios"] != users:
        raise RuntimeError(f"{server}: GET /status gave {status.status_code} {status.text[:200]}")
    if server == APP:
        home = requests.get(f"{url}/", timeout=30)
        if home.status_code != 200 or f'<dd id="total-usuarios">{users}</dd>' not in home.text:
            raise RuntimeError(f"{server}: GET / gave {home.status_code}, not {users} users")


def versions(bindir: Path) -> dict[str, str]:
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "machine": f"{os.cpu_count()} cores, {cpu}, Linux {platform.release()}",
        "wrk": (wrk.stdout or wrk.stderr).split(" Copyright")[0].strip(),
        "python": platform.python_version(),
        **{
            name: importlib.metadata.version(name)
            for name in ("gunicorn", "flask", "psycopg2-binary")
        },
    }


def write_results(args, load: loadgen.Load, run: Run, started: datetime.datetime) -> None:
    small, large = args.sizes[0], args.sizes[-1]
    durable = all(run.settings[name] == value for name, value in DURABLE.items())
    targets = cases.evaluate(run.results, small, large, durable)
    env = servers.stack_defaults()
    chart = args.out_dir / "results.png"
    report.write_chart(
        run.results,
        chart,
        f"{load.connections} connections, {args.repeat} runs of {load.seconds} s per case "
        f"(started {started:%Y-%m-%d %H:%M} UTC)",
    )
    setup = {
        **versions(run.bindir),
        "PostgreSQL settings": ", ".join(f"{k}={v}" for k, v in run.settings.items()),
        "app": f"gunicorn, app/gunicorn.conf.py, WEB_CONCURRENCY={env['WEB_CONCURRENCY']}, "
        f"GUNICORN_THREADS={env['GUNICORN_THREADS']} (infra/settings.py defaults)",
        "load": f"wrk --threads {load.threads} --connections {load.connections} "
        f"--duration {load.seconds}s (bench/wrk/case.lua); pgbench --select-only "
        f"--client {load.connections} --jobs {load.threads} --time {load.seconds}",
        "each figure": f"{args.repeat} runs per case, taken in turns with every other case "
        f"({args.warmup} s of warm-up before a case's first): the median throughput, and p50 "
        "and p99 over the requests of all its runs",
        "bulk load": ", ".join(
            f"{users:,} users in {s:.1f} s" for users, s in run.load_seconds.items()
        ),
    }
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python -m bench` (`make bench`) on {started:%Y-%m-%d %H:%M} UTC; "
        "what the cases are and how to read them: [README.md](README.md).",
        "",
        *(f"- **{key}**: {value}" for key, value in setup.items()),
        "",
        "## Targets (issue #5)",
        "",
        report.targets_table(targets),
        "",
        "## Every case",
        "",
        "Errors are responses other than 2xx plus socket errors and timeouts. "
        '"Other load" is the most CPU (in cores) that processes outside the benchmark '
        "used during one of the case's runs: above a few tenths, a figure was disturbed.",
        "",
        report.results_table(run.results),
        "",
        "## CPU per request",
        "",
        "CPU microseconds per request (per transaction for pgbench) of each part, "
        "medians over the runs: the HTTP server's processes, PostgreSQL's (its "
        "backends included), and the load generator (wrk or pgbench). Cores busy "
        "is their total times the throughput; the machine has "
        f"{os.cpu_count()}, and the kernel's own threads are not counted.",
        "",
        report.cpu_table(run.results),
        "",
        f"![throughput and latency per case]({chart.name})",
        "",
    ]
    if run.profile:
        m = run.profile["measurement"]
        lines += [
            f"## Where the app's CPU goes ({CASES[0].name}, {run.profile['users']:,} users)",
            "",
            f"py-spy, {profile.SAMPLES_PER_SECOND} samples/s of the thread holding the GIL in "
            f"each worker, {run.profile['samples']:,} samples during {m.rate:,.0f} req/s:",
            "",
            profile.markdown(run.profile),
            "",
        ]
    sections.write_keeping(args.out_dir / "results.md", "\n".join(lines), sections.LIFECYCLE)
    print("\n".join(lines[lines.index("## Targets (issue #5)") :]))
