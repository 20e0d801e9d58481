#!/usr/bin/env python3
"""Is every part of the stack running and healthy? The last word of `make up`, and
the body of `make status`.

One host: each container's state and health. A swarm: each service's tasks, each
task's state, health and node, and the errors of those that failed. For every part that is
not running and healthy: its last log lines and one line on the likely cause
(verdict_causes.py). Exits 1 when any part is not.

The parts come from the environment (scripts/lib.sh resolves them from the
stack's outputs): DB_CONTAINER, MIGRATOR_CONTAINER, APP_CONTAINER, READER_CONTAINER,
or on a swarm DB_SERVICE, MIGRATOR_SERVICE, APP_SERVICE, READER_SERVICE; VOLUME_NAME names the volume in the
causes. `--wait SECONDS` gives parts that run but are not healthy yet that long
to settle; the wait ends at once when a part has stopped or restarted, since
what waits for it would wait in vain. UP_STARTED (seconds since the epoch) leaves out swarm task failures older
than the up. Standard library and the docker CLI only, as the other scripts.
"""

import argparse
import calendar
import dataclasses
import json
import os
import subprocess
import sys
import time

from verdict_causes import likely_cause

# The migrator stays, idle and healthy, once it has migrated (infra/common.py).
ROLES = ("db", "migrator", "app", "reader")
TAIL = 15
POLL_SECONDS = 0.5
# Swarm task states before "running" (swarmkit's order), and those it never leaves.
TASK_STARTING = {"new", "pending", "assigned", "accepted", "preparing", "ready", "starting"}
TASK_FAILED = {"failed", "rejected", "orphaned"}


@dataclasses.dataclass
class Part:
    """One container, or one service, as judged."""

    role: str
    name: str
    state: str  # running, restarting, exited, missing... ; a service: "2/2"
    health: str = "-"
    since: str = ""
    detail: str = ""  # what is wrong, in a few words
    ok: bool = False
    starting: bool = False  # not ok yet, and may still become so
    evidence: str = ""  # what the causes are looked for in: errors, health output, logs
    logs: list[str] = dataclasses.field(default_factory=list)
    restarts: int = 0
    tasks: list[str] = dataclasses.field(default_factory=list)  # a service's: one line each


def docker(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def inspect(kind: str, names: list[str]) -> dict[str, dict]:
    """`docker inspect` of several of a kind at once, by name and by ID; those Docker
    does not know are left out."""
    if not names:
        return {}
    found = json.loads(docker("inspect", "--type", kind, *names).stdout or "[]")
    by_name = {}
    for attrs in found:
        by_name[attrs.get("Name", "").lstrip("/")] = attrs
        by_name[(attrs.get("Spec") or {}).get("Name", "")] = attrs
        by_name[attrs.get("ID", "")] = attrs
    return by_name


def log_tail(*source: str) -> list[str]:
    result = docker(*source, "--tail", str(TAIL))
    return (result.stdout + result.stderr).splitlines()[-TAIL:]


# -- one host ---------------------------------------------------------------------------


def judge_container(role: str, name: str, attrs: dict | None, first: Part | None) -> Part:
    if attrs is None:
        return Part(role, name, "missing", detail="does not exist")
    state = attrs["State"]
    # Docker leaves a stopped container's last health, but checks run only while it runs.
    running = state["Status"] == "running"
    health = (state.get("Health") or {}).get("Status", "-") if running else "-"
    part = Part(
        role,
        name,
        state["Status"],
        health,
        since=state.get("StartedAt", "")[:19] + "Z",
        restarts=attrs.get("RestartCount", 0),
    )
    restarted = first is not None and part.restarts > first.restarts
    part.ok = running and health in ("healthy", "-") and not restarted
    # Unhealthy may still turn healthy (a database it waits for comes up); a stop or a
    # restart is a failure now.
    part.starting = running and health in ("starting", "unhealthy") and not restarted
    if not part.ok:
        facts = [] if running else [f"exit code {state.get('ExitCode', 0)}"]
        if part.restarts:
            facts.append(f"restarted {part.restarts} time" + "s" * (part.restarts > 1))
        if state.get("OOMKilled"):
            facts.append("killed for lack of memory")
        part.detail = ", ".join(
            [f"{state['Status']}, {health}" if health != "-" else state["Status"], *facts]
        )
        checks = (state.get("Health") or {}).get("Log") or []
        part.evidence = "\n".join(
            [state.get("Error", ""), *(check.get("Output", "") for check in checks[-3:])]
        )
    return part


def containers(names: dict[str, str], first: dict[str, Part]) -> list[Part]:
    found = inspect("container", list(names.values()))
    return [
        judge_container(role, name, found.get(name), first.get(role))
        for role, name in names.items()
    ]


# -- a swarm ------------------------------------------------------------------------------


def judge_service(role: str, name: str, attrs: dict | None, since: float) -> Part:
    if attrs is None:
        return Part(role, name, "missing", detail="does not exist")
    desired = attrs["Spec"]["Mode"].get("Replicated", {}).get("Replicas", 1)
    task_ids = docker("service", "ps", "--quiet", "--no-trunc", name).stdout.split()
    tasks = list({t["ID"]: t for t in inspect("task", task_ids).values() if "Status" in t}.values())
    nodes = {n.split()[0]: n.split()[1] for n in node_names()}
    wanted = [t for t in tasks if t["DesiredState"] == "running"]
    running = [t for t in wanted if t["Status"]["State"] == "running"]
    recent_failures = [
        t
        for t in tasks
        if t["Status"]["State"] in TASK_FAILED and task_time(t) >= since and t["Status"].get("Err")
    ]
    part = Part(role, name, f"{len(running)}/{desired}")
    part.since = ", ".join(sorted({nodes.get(t.get("NodeID", ""), "?") for t in running}))
    checked = has_health_check(attrs)
    part.tasks = [
        task_line(t, nodes, checked) for t in sorted(wanted, key=lambda t: t.get("Slot", 0))
    ]
    part.ok = len(running) == desired
    part.starting = (
        not part.ok
        and not recent_failures
        and any(t["Status"]["State"] in TASK_STARTING for t in wanted)
    )
    if not part.ok:
        errors = [
            f"{t['Status']['State']} on {nodes.get(t.get('NodeID', ''), 'no node')}: "
            f"{t['Status'].get('Err') or t['Status'].get('Message', '')}"
            for t in [*recent_failures, *[t for t in wanted if t not in running]][:6]
        ]
        part.detail = f"{len(running)} of {desired} tasks running" + (
            "; tasks:\n      " + "\n      ".join(errors) if errors else ""
        )
        part.evidence = "\n".join(errors)
    return part


def has_health_check(service: dict) -> bool:
    spec = service["Spec"]["TaskTemplate"].get("ContainerSpec", {})
    test = (spec.get("Healthcheck") or {}).get("Test") or []
    return bool(test) and test[0] != "NONE"


def task_line(task: dict, nodes: dict[str, str], checked: bool) -> str:
    """A task's slot, state, health and node. Docker's swarm executor reports a task
    whose container has a health check as running only once the container is
    healthy, and fails it when it turns unhealthy (moby,
    daemon/cluster/executor/container/controller.go: controller.Start waits for the
    health_status: healthy event, controller.Wait shuts down on unhealthy), so a
    task's state carries its health."""
    state = task["Status"]["State"]
    health = {"running": ", healthy", "starting": ", not healthy yet"}.get(state, "")
    node = nodes.get(task.get("NodeID", ""), "no node")
    stamp = (task["Status"].get("Timestamp") or "")[:19]
    return f"task {task.get('Slot', '-')}: {state}{health if checked else ''}, on {node}" + (
        f" since {stamp}Z" if stamp else ""
    )


def task_time(task: dict) -> float:
    stamp = task["Status"].get("Timestamp") or task.get("UpdatedAt", "")
    try:
        return calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return 0.0


def node_names() -> list[str]:
    return docker("node", "ls", "--format", "{{.ID}} {{.Hostname}}").stdout.splitlines()


def services(names: dict[str, str], since: float) -> list[Part]:
    found = inspect("service", list(names.values()))
    return [judge_service(role, name, found.get(name), since) for role, name in names.items()]


# -- the verdict ----------------------------------------------------------------------------


def parts_from_environment() -> tuple[dict[str, str], bool]:
    swarm = {r: os.environ.get(f"{r.upper()}_SERVICE", "") for r in ROLES}
    if all(swarm.values()):
        return swarm, True
    return {r: os.environ.get(f"{r.upper()}_CONTAINER") or "" for r in ROLES}, False


def judge(names: dict[str, str], swarm: bool, wait: float, since: float) -> list[Part]:
    deadline = time.monotonic() + wait
    first: dict[str, Part] = {}
    while True:
        parts = services(names, since) if swarm else containers(names, first)
        first = first or {p.role: p for p in parts}
        failing = any(not p.ok and not p.starting for p in parts)
        if failing or all(p.ok for p in parts) or time.monotonic() >= deadline:
            return parts
        time.sleep(POLL_SECONDS)


def report(parts: list[Part], swarm: bool) -> None:
    bad = [p for p in parts if not p.ok]
    kind = "services" if swarm else "containers"
    if bad:
        print(f"Verdict: {len(bad)} of {len(parts)} {kind} not running and healthy")
    else:
        print(f"Verdict: all {len(parts)} {kind} running and healthy")
    if swarm:
        for part in parts:
            print(f"  {part.name}: {part.state} tasks running, on {part.since or 'no node'}")
            for line in part.tasks:
                print(f"    {line}")
    else:
        width = max(len("CONTAINER"), *(len(p.name) for p in parts))
        print(f"  {'CONTAINER':<{width}}  {'STATE':<10} {'HEALTH':<10} SINCE")
        for part in parts:
            since = part.since if part.state not in ("missing", "created") else ""
            print(f"  {part.name:<{width}}  {part.state:<10} {part.health:<10} {since}")
    by_role = {p.role: p for p in parts}
    for part in bad:
        if part.state != "missing":
            part.logs = (
                log_tail("service", "logs", "--raw", part.name)
                if swarm
                else log_tail("logs", part.name)
            )
        print(f"\n{part.name}: {part.detail}")
        print(f"  likely cause: {likely_cause(part, by_role, os.environ.get('VOLUME_NAME', ''))}")
        if part.logs:
            print(f"  last {len(part.logs)} log lines:")
            for line in part.logs:
                print(f"    | {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wait", type=float, default=0, help="seconds for starting parts to settle"
    )
    args = parser.parse_args()
    names, swarm = parts_from_environment()
    if not all(names.values()):
        print(
            "verdict: set DB_CONTAINER, MIGRATOR_CONTAINER, APP_CONTAINER and READER_CONTAINER",
            file=sys.stderr,
        )
        return 2
    since = float(os.environ.get("UP_STARTED") or 0)
    parts = judge(names, swarm, args.wait, since)
    report(parts, swarm)
    return 0 if all(p.ok for p in parts) else 1


if __name__ == "__main__":
    sys.exit(main())
