"""Start order (issue #3, scenario 5): the app never answers before the database
is healthy, and a normal start restarts no container and logs no error.

Watched from outside while the stack comes up: Docker's event stream gives when
each container was created, started and became healthy; a poller on the app's
published port gives when the app first answered.
"""

import contextlib
import threading
import time

import pytest
import requests

from testing.live import ROLES, wait_until

pytestmark = pytest.mark.e2e

TROUBLE = ("die", "kill", "oom", "restart", "health_status: unhealthy")


class Watcher:
    """Runs the subclass's _run in a thread from entering the `with` to leaving
    it, which calls the subclass's _halt to make _run end."""

    def __init__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._halt()
        self._thread.join(timeout=5)


class Poller(Watcher):
    """GETs url every 50 ms, recording (time, status) of every answer."""

    def __init__(self, url: str):
        super().__init__()
        self.url = url
        self.answers: list[tuple[float, int]] = []
        self._stop = threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                response = requests.get(self.url, timeout=1)
                self.answers.append((time.time(), response.status_code))
            except requests.RequestException:
                pass  # nothing listens yet: exactly what is expected before the app starts
            self._stop.wait(0.05)

    def _halt(self) -> None:
        self._stop.set()


class EventRecorder(Watcher):
    """(time, role, action) of the stack's containers, from Docker's live event
    stream, subscribed before the up. Not read back afterwards with `since`: the
    engine keeps only its last 256 events, which other stacks' health checks on a
    shared engine overwrite within seconds."""

    def __init__(self, client, names: dict[str, str]):
        super().__init__()
        self._roles = {name: role for role, name in names.items()}
        self._stream = client.events(decode=True, filters={"type": "container"})
        self.events: list[tuple[float, str, str]] = []

    def _run(self) -> None:
        with contextlib.suppress(Exception):  # the stream ends, however it ends, on close()
            for event in self._stream:
                name = event.get("Actor", {}).get("Attributes", {}).get("name")
                if name in self._roles:
                    action = event.get("Action", event.get("status"))
                    self.events.append((event["timeNano"] / 1e9, self._roles[name], action))

    def _halt(self) -> None:
        self._stream.close()


def first(events, role: str, action: str) -> float:
    times = [t for t, r, a in events if r == role and a == action]
    assert times, f"no {action!r} event for the {role} container; events: {events}"
    return times[0]


def test_start_order_and_no_restarts(make_stack):
    stack = make_stack(up=False)
    names = {role: stack.container_name(role) for role in ROLES}
    with EventRecorder(stack.docker, names) as recorder, Poller(stack.url + "/status") as poller:
        stack.up()
        wait_until(lambda: poller.answers, timeout=60, what="the poller to see the app answer")
        wait_until(
            lambda: ("reader", "start") in [(r, a) for _, r, a in recorder.events],
            timeout=60,
            what="Docker's event for the reader's start",
        )
    events = list(recorder.events)

    db_healthy = first(events, "db", "health_status: healthy")
    assert first(events, "db", "start") < db_healthy
    assert first(events, "app", "create") >= db_healthy, (
        "the app was created before the db was healthy"
    )
    first_answer = poller.answers[0][0]
    assert first_answer >= db_healthy, "the app answered before the database was healthy"
    assert {status for _, status in poller.answers} == {200}, poller.answers

    app_healthy = first(events, "app", "health_status: healthy")
    assert first(events, "reader", "create") >= app_healthy, "the reader started before the app"

    trouble = [(role, action) for _, role, action in events if action in TROUBLE]
    assert not trouble, f"containers stopped or restarted during a normal start: {trouble}"
    for role in ROLES:
        state = stack.container(role).attrs
        assert state["RestartCount"] == 0, f"{role} restarted"
        assert state["State"]["Running"], f"{role} is not running"

    # A normal start is a quiet one: gunicorn logs no error.
    errors = [line for line in stack.logs("app").splitlines() if "[ERROR]" in line]
    assert not errors, errors

    # Started after the app was healthy, the reader never saw it unavailable.
    wait_until(lambda: "GET /logs" in stack.logs("reader"), timeout=60, what="a full reader cycle")
    reads = [line for line in stack.logs("reader").splitlines() if " GET " in line]
    assert reads and all(" status=200 " in line for line in reads), reads
