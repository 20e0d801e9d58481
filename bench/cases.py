"""What is measured: the HTTP cases, who serves them, and the targets of issue #5."""

from dataclasses import dataclass

from bench.loadgen import Summary

PAGE_LIMIT = 50
PAGE = f"GET /usuarios?limit={PAGE_LIMIT}"
DEEP_PAGE = f"GET /usuarios?limit={PAGE_LIMIT}&after=random"
DEFAULT_PAGE = "GET /usuarios"
STATUS = "GET /status"
HOME = "GET /"  # the page: its users, logs, counts and the timeline of starts
POST = "POST /usuarios"
PGBENCH = "pgbench -S"

# Where the CPU of a measurement goes (bench/machine.py, bench/run.py).
SERVER, POSTGRESQL, LOAD_GENERATOR = "server", "PostgreSQL", "load generator"

APP = "app"  # ours: gunicorn as the image runs it
SEED = "seed"  # bench/seed_app.py
DATABASE = "postgresql"  # pgbench, the ceiling


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    post: bool = False
    # A page anywhere in the table: `after` drawn at random for each request.
    deep: bool = False
    # The seed-style server has no pages to ask for, and no HTML page.
    on_seed: bool = True


# The writes come last (bench/run.py), so every read sees exactly the loaded users.
CASES = (
    Case(PAGE, f"/usuarios?limit={PAGE_LIMIT}"),
    Case(DEEP_PAGE, f"/usuarios?limit={PAGE_LIMIT}&after=", deep=True, on_seed=False),
    Case(DEFAULT_PAGE, "/usuarios"),
    Case(STATUS, "/status"),
    Case(HOME, "/", on_seed=False),
    Case(POST, "/usuarios", post=True),
)


@dataclass
class Result:
    users: int
    server: str
    case: str
    figures: Summary
    background_cores: float
    cpu_us: dict[str, float]  # CPU microseconds per request: server, PostgreSQL, load generator


@dataclass
class Target:
    goal: str
    measured: str
    met: bool


def find(results: list[Result], users: int, server: str, case: str) -> Result | None:
    return next((r for r in results if (r.users, r.server, r.case) == (users, server, case)), None)


@dataclass(frozen=True)
class Ratio:
    """A target of the form ours.figure / other.figure ≥ bound (or ≤ bound, `at_most`)."""

    goal: str
    ours: tuple[int, str, str]  # (users, server, case)
    other: tuple[int, str, str]
    figure: str = "rate"
    bound: float = 1.0
    at_most: bool = False
    also: bool = True  # what else must hold for the target to be met

    def check(self, results: list[Result]) -> Target | None:
        ours, other = find(results, *self.ours), find(results, *self.other)
        if ours is None or other is None:
            return None  # a case this run did not measure
        ratio = getattr(ours.figures, self.figure) / getattr(other.figures, self.figure)
        met = (ratio <= self.bound if self.at_most else ratio >= self.bound) and self.also
        if self.figure == "p50_ms":
            shown = f"{ratio:.2f}× ({ours.figures.p50_ms:.2f} ms vs {other.figures.p50_ms:.2f} ms)"
        else:
            shown = f"{ratio:.1%}" if self.bound < 1 else f"{ratio:.1f}×"
        return Target(self.goal, shown, met)


def evaluate(results: list[Result], small: int, large: int, durable: bool) -> list[Target]:
    """The targets of issue #5, in its order, each as a ratio from this one run.
    `durable`: the server ran with fsync and synchronous_commit on (read back
    from it, not assumed)."""
    seed_ratio = Ratio(
        f"{PAGE} throughput at {small:,} users ≥ 15× the seed-style server's",
        ours=(small, APP, PAGE),
        other=(small, SEED, PAGE),
        bound=15,
    )
    ceiling_ratios = [
        Ratio(
            f"{PAGE} throughput at {users:,} users ≥ 10% of `{PGBENCH}` tps",
            ours=(users, APP, PAGE),
            other=(users, DATABASE, PGBENCH),
            bound=0.10,
        )
        for users in sorted({small, large})
    ]
    latency_ratios = [
        Ratio(
            f"{page} p50 latency at {large:,} users ≤ 1.2× the latency at {small:,}",
            ours=(large, APP, page),
            other=(small, APP, page),
            figure="p50_ms",
            bound=1.2,
            at_most=True,
        )
        for page in ((PAGE, DEEP_PAGE, HOME) if large != small else ())
    ]
    post_ratio = Ratio(
        f"{POST} throughput at {small:,} users ≥ 5× the seed-style server's; writes durable "
        f"(fsync and synchronous_commit {'on' if durable else 'NOT on'})",
        ours=(small, APP, POST),
        other=(small, SEED, POST),
        bound=5,
        also=durable,
    )
    targets = [seed_ratio.check(results), *(r.check(results) for r in ceiling_ratios)]
    app_results = [r for r in results if r.server == APP]
    if app_results:
        worst = max(app_results, key=lambda r: r.figures.tail)
        targets.append(
            Target(
                "p99 ≤ 3× p50 for every case of the app",
                f"worst {worst.figures.tail:.2f}× ({worst.case} at {worst.users:,} users)",
                worst.figures.tail <= 3,
            )
        )
    targets += [r.check(results) for r in latency_ratios] + [post_ratio.check(results)]
    return [target for target in targets if target is not None]
