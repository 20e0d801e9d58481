"""The run's results as a Markdown table with the ratios, and a PNG chart."""

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server or in CI

import matplotlib.pyplot as plt  # after use(): the backend is chosen before pyplot loads

from bench.cases import (
    APP,
    CASES,
    DATABASE,
    LOAD_GENERATOR,
    PGBENCH,
    POSTGRESQL,
    SEED,
    SERVER,
    Result,
    Target,
    find,
)

SERVER_LABELS = {
    APP: "app (gunicorn)",
    SEED: "seed-style",
    DATABASE: "PostgreSQL",
}
COLORS = {APP: "#1f77b4", SEED: "#d62728", DATABASE: "#7f7f7f"}


def in_order(results: list[Result]) -> list[Result]:
    """By size, then case (pgbench first), then server: each app figure next to its baseline."""
    case_order = [PGBENCH, *(case.name for case in CASES)]
    server_order = [DATABASE, APP, SEED]
    return sorted(
        results,
        key=lambda r: (r.users, case_order.index(r.case), server_order.index(r.server)),
    )


def label(result: Result) -> str:
    return f"{result.users:,} · {SERVER_LABELS[result.server]} · {result.case}"


def _table(results: list[Result], columns: list[str], cells) -> str:
    """One row per result, in order: users, server and case, then `cells(result)`."""
    lines = [
        "| " + " | ".join(["users", "server", "case", *columns]) + " |",
        "|---:|---|---|" + "---:|" * len(columns),
    ]
    for r in in_order(results):
        row = [f"{r.users:,}", SERVER_LABELS[r.server], f"`{r.case}`", *cells(r)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def results_table(results: list[Result]) -> str:
    def cells(r: Result) -> list[str]:
        m = r.figures
        seed = find(results, r.users, SEED, r.case)
        ceiling = find(results, r.users, DATABASE, PGBENCH)
        return [
            f"{m.rate:,.0f}",
            f"{m.p50_ms:.2f}",
            f"{m.p99_ms:.2f}",
            f"{m.tail:.2f}",
            f"{m.errors} of {m.requests:,}",
            f"{m.rate / seed.figures.rate:.1f}×" if seed and r.server == APP else "",
            f"{m.rate / ceiling.figures.rate:.1%}" if ceiling and r.server != DATABASE else "",
            f"{r.background_cores:.2f}",
        ]

    columns = ["req/s", "p50 ms", "p99 ms", "p99/p50", "errors", "× seed-style"]
    return _table(results, [*columns, "% of pgbench", "other load (cores)"], cells)


def cpu_table(results: list[Result]) -> str:
    def cells(r: Result) -> list[str]:
        parts = [r.cpu_us[part] for part in (SERVER, POSTGRESQL, LOAD_GENERATOR)]
        busy = sum(parts) * r.figures.rate / 1e6
        return [*(f"{us:,.0f}" for us in parts), f"{sum(parts):,.0f}", f"{busy:.2f}"]

    columns = ["HTTP server", "PostgreSQL", "load generator", "total", "cores busy"]
    return _table(results, columns, cells)


def targets_table(targets: list[Target]) -> str:
    lines = ["| target | measured | met |", "|---|---|:---:|"]
    lines += [f"| {t.goal} | {t.measured} | {'yes' if t.met else '**no**'} |" for t in targets]
    return "\n".join(lines)


def write_chart(results: list[Result], path, title: str) -> None:
    results = in_order(results)
    labels = [label(r) for r in results]
    colors = [COLORS[r.server] for r in results]
    positions = range(len(results))
    figure, (throughput, latency) = plt.subplots(
        1, 2, figsize=(15, 0.42 * len(results) + 2), sharey=True, layout="constrained"
    )
    throughput.barh(positions, [r.figures.rate for r in results], color=colors)
    throughput.set_xscale("log")
    throughput.set_xlabel("requests (transactions) per second, log scale")
    throughput.set_yticks(list(positions), labels, fontsize=8)
    throughput.invert_yaxis()
    for y, r in zip(positions, results, strict=True):
        throughput.annotate(f" {r.figures.rate:,.0f}", (r.figures.rate, y), va="center", fontsize=7)
    height = 0.4
    latency.barh(
        [y - height / 2 for y in positions],
        [r.figures.p50_ms for r in results],
        height,
        color=colors,
        label="p50",
    )
    latency.barh(
        [y + height / 2 for y in positions],
        [r.figures.p99_ms for r in results],
        height,
        color=colors,
        alpha=0.45,
        label="p99 (lighter)",
    )
    latency.set_xscale("log")
    latency.set_xlabel("latency in ms, log scale: p50 (dark), p99 (light)")
    for y, r in zip(positions, results, strict=True):
        latency.annotate(
            f" {r.figures.p99_ms:.1f}",
            (r.figures.p99_ms, y + height / 2),
            va="center",
            fontsize=7,
        )
    # Room on the right of the longest bars for their labels.
    throughput.set_xlim(right=max(r.figures.rate for r in results) * 3)
    latency.set_xlim(right=max(r.figures.p99_ms for r in results) * 3)
    for axis in (throughput, latency):
        axis.grid(axis="x", which="both", alpha=0.3)
    figure.suptitle(title)
    figure.savefig(path, dpi=110)
    plt.close(figure)
