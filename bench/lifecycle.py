"""`make bench-lifecycle`: the stack's lifecycle beside docker compose running the same
containers, timed in one run on the engine at hand.

Four operations, each as a user waits for it: a cold up (no container, no volume)
until the app is healthy, an up with nothing changed, a down, and an up on the kept
volume until the app is healthy. This stack runs through `make` when the real
Pulumi CLI and its docker plugin are installed, else through the e2e harness (no
Pulumi process, no provider: its figures are not Pulumi's, and the report says
so). docker compose runs the same images, files, volume and start order with the
health checks the stack had before (bench/lifecycle_stacks.py). The two take turns,
round after round, after one untimed round of ours (it builds the app image); each
figure is the median of the rounds. Writes the section "Lifecycle" of bench/results.md.
"""

import argparse
import datetime
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import docker

from bench import sections
from bench.lifecycle_stacks import ComposeStack, HarnessStack, compose_command
from testing import pulumi_cli
from testing.make_stack import MakeStack

BENCH_DIR = Path(__file__).resolve().parent
OPERATIONS = (
    ("cold", "cold up, until the app is healthy"),
    ("same", "up with nothing changed"),
    ("down", "down (the volume kept)"),
    ("kept", "up on the kept volume, until the app is healthy"),
)
# The targets of issue 18, on the real engine: a ratio to compose, or seconds.
TARGETS = {"cold": ("ratio", 1.5), "same": ("seconds", 6.0), "down": ("ratio", 3.0)}
HEALTHY_TIMEOUT = 180


def wait_healthy(client: docker.DockerClient, name: str) -> None:
    deadline = time.monotonic() + HEALTHY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            state = client.api.inspect_container(name)["State"]
        except docker.errors.NotFound:
            state = {}
        if (state.get("Health") or {}).get("Status") == "healthy":
            return
        time.sleep(0.1)
    raise TimeoutError(f"{name} was not healthy within {HEALTHY_TIMEOUT} s")


def timed(operation: Callable[[], None], then: Callable[[], None] | None = None) -> float:
    started = time.monotonic()
    operation()
    if then is not None:
        then()
    return time.monotonic() - started


def one_round(stack, client: docker.DockerClient) -> dict[str, float]:
    healthy = lambda: wait_healthy(client, stack.app)  # noqa: E731 - a callback, named
    stack.reset()
    figures = {
        "cold": timed(stack.up, healthy),
        "same": timed(stack.up, healthy),
        "down": timed(stack.down),
        "kept": timed(stack.up, healthy),
    }
    stack.down()
    return figures


def medians(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {op: statistics.median(r[op] for r in rounds) for op, _ in OPERATIONS}


def verdict(op: str, ours: float, compose: float) -> tuple[str, str, str]:
    """(ratio, target, met) cells of one operation."""
    ratio = f"{ours / compose:.2f}×" if compose else ""
    if op not in TARGETS:
        return ratio, "", ""
    kind, limit = TARGETS[op]
    value = ours / compose if kind == "ratio" else ours
    target = f"≤ {limit:g}×" if kind == "ratio" else f"≤ {limit:g} s"
    return ratio, target, "yes" if value <= limit else "**no**"


def section(engine: str, compose: str, client, rounds: int, ours: dict, theirs: dict) -> str:
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        sections.LIFECYCLE,
        "",
        f"Written by `make bench-lifecycle` on {when}: this stack through {engine}; "
        f"{compose}; Docker {client.version()['Version']} (API {client.api.api_version}); "
        f"the median of {rounds} rounds, taken in turns. Targets (issue 18) are for the "
        "real engine.",
        "",
        "| operation | docker compose | this stack | ratio | target | met |",
        "|---|---:|---:|---:|---|:---:|",
    ]
    for op, label in OPERATIONS:
        cells = verdict(op, ours[op], theirs[op])
        lines.append(
            f"| {label} | {theirs[op]:.1f} s | {ours[op]:.1f} s | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lifecycle", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default: %(default)s)")
    parser.add_argument(
        "--engine",
        choices=("auto", "pulumi", "harness"),
        default="auto",
        help="pulumi: make with the real Pulumi CLI; harness: the e2e harness; auto: the CLI "
        "when it can run the project (default)",
    )
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results.md")
    args = parser.parse_args(argv)

    command = compose_command()
    if command is None:
        print("bench-lifecycle: docker compose is not installed (apt-get install docker-compose)")
        return 2
    cli, why = pulumi_cli.find()
    if args.engine == "pulumi" and cli is None:
        print(f"bench-lifecycle: --engine pulumi, but {why}")
        return 2
    use_cli = cli is not None and args.engine != "harness"
    client = docker.from_env(version="auto", timeout=300)
    prefix = f"lifecycle-{secrets.token_hex(3)}-"
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as work:
        work = Path(work)
        ours = MakeStack(f"{prefix}make-", work, client) if use_cli else HarnessStack(client)
        engine = f"`make` with {cli.describe()}" if use_cli else f"the e2e harness ({why})"
        print(f"bench-lifecycle: this stack through {engine}", flush=True)
        theirs = None
        try:
            one_round(ours, client)  # builds the app image, which compose then runs too
            (work / "compose").mkdir()
            theirs = ComposeStack(f"{prefix}compose-", work / "compose", command, ours.app_image)
            figures = {"ours": [], "theirs": []}
            for n in range(args.rounds):
                order = [("ours", ours), ("theirs", theirs)]
                for side, stack in order if n % 2 == 0 else reversed(order):
                    figures[side].append(one_round(stack, client))
                    print(f"  round {n + 1}, {side}: {figures[side][-1]}", flush=True)
        finally:
            for stack in (theirs, ours):
                if stack is not None:
                    stack.close()
    version = " ".join(compose_version(command))
    text = section(
        engine, version, client, args.rounds, medians(figures["ours"]), medians(figures["theirs"])
    )
    sections.replace(args.out, sections.LIFECYCLE, text)
    print(text)
    return 0


def compose_version(command: list[str]) -> list[str]:
    done = subprocess.run([*command, "version", "--short"], capture_output=True, text=True)
    return [*command, done.stdout.strip()]


if __name__ == "__main__":
    sys.exit(main())
