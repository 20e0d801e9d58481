"""Faults on the running stack: the database stopped, killed and crashed, many
clients writing at once, destroy/up cycles, an app restart under the reader.

The figures these tests prove are in docs/reliability.md. They run on a
stack of this module's own: they stop and kill its containers, and the counts
they compare must not move because of any other test. Every check of what was
kept reads the database itself (psql in its container), not the app.
"""

import datetime
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from testing.figures import (
    CONCURRENT_DISTINCT,
    CONCURRENT_SAME,
    CYCLES,
    DEADLINE_SECONDS,
    WRITES_BEFORE_KILL,
    WRITES_PER_CYCLE,
)
from testing.live import ROLES, wait_until

pytestmark = pytest.mark.e2e

# What PostgreSQL logs when it starts on data left by a crash.
CRASH_RECOVERY = "database system was not properly shut down; automatic recovery in progress"


@pytest.fixture(scope="module")
def stack(stack_factory):
    stack = stack_factory.make()
    yield stack
    stack.purge()


@pytest.fixture(autouse=True)
def serving(stack):
    """Each test starts from a serving stack, whatever the one before left behind."""
    if not stack.is_up:
        stack.up()
    for role in ROLES:
        container = stack.container(role)
        if container.status != "running":
            container.start()
    stack.wait_healthy("db")
    if started_at(stack, "db") > started_at(stack, "app"):
        # The database restarted under the app: each worker's pool still holds a
        # connection to the old server, which costs that worker one 503 (docs/api.md,
        # "Timeouts"; the stopped-database test proves the recovery). The next
        # test, about something else, starts from fresh pools.
        stack.container("app").restart(timeout=10)
        stack.wait_healthy("app", timeout=DEADLINE_SECONDS)
    stack.wait_for("/status")


def started_at(stack, role: str) -> datetime.datetime:
    """When the container last started; Docker gives nanoseconds, Python keeps microseconds."""
    text = stack.container(role).attrs["State"]["StartedAt"]
    seconds, _, fraction = text.removesuffix("Z").partition(".")
    microseconds = int((fraction + "000000")[:6])
    return datetime.datetime.fromisoformat(seconds) + datetime.timedelta(microseconds=microseconds)


def counts(stack) -> tuple[int, int]:
    """usuarios, and the logs about a usuario. The app also logs each of its own
    starts, at a moment of its choosing: those rows are no write of a client."""
    usuarios, logs = stack.psql(
        "SELECT count(*), (SELECT count(*) FROM logs WHERE usuario_id IS NOT NULL) FROM usuarios"
    ).split("|")
    return int(usuarios), int(logs)


def usuarios_table(stack) -> str:
    """Every usuario as the database holds it, in id order (psql's unaligned text)."""
    return stack.psql("SELECT id, nome, email, data_criacao FROM usuarios ORDER BY id")


def logs_table(stack) -> str:
    return stack.psql("SELECT id, acao, mensagem, usuario_id, data_criacao FROM logs ORDER BY id")


def new_usuario(tag: str) -> dict:
    return {"nome": f"Falha {tag}", "email": f"falha-{tag}-{uuid.uuid4().hex[:8]}@example.com"}


def container_run(stack, role: str) -> tuple[str, int, str]:
    """What changes when Docker restarts or recreates a container: id, restarts, start time."""
    attrs = stack.container(role).attrs
    return attrs["Id"], attrs["RestartCount"], attrs["State"]["StartedAt"]


def timed_request(stack, method: str, path: str, **kwargs) -> tuple[requests.Response, float]:
    """The answer (requests raises at the deadline) and its time, recorded, not judged."""
    started = time.monotonic()
    response = stack.request(method, path, timeout=DEADLINE_SECONDS, **kwargs)
    return response, time.monotonic() - started


def all_at_once(function, arguments: list) -> list:
    """function(argument) for every argument, each in its own thread, released together."""
    barrier = threading.Barrier(len(arguments))

    def run(argument):
        barrier.wait()
        return function(argument)

    with ThreadPoolExecutor(max_workers=len(arguments)) as pool:
        return list(pool.map(run, arguments))


def wait_for_db_restart(stack, restarts_before: int) -> None:
    wait_until(
        lambda: stack.container("db").attrs["RestartCount"] > restarts_before,
        timeout=DEADLINE_SECONDS,
        what="Docker to restart the database by its restart policy",
    )
    stack.wait_healthy("db")


def test_database_stopped_answers_503_in_json_in_bounded_time_then_recovers(stack, record_property):
    app_before = container_run(stack, "app")
    before = counts(stack)

    stack.container("db").stop(timeout=10)
    answers = [
        (method, path, *timed_request(stack, method, path, json=body))
        for method, path, body in [
            ("GET", "/status", None),
            ("POST", "/usuarios", new_usuario("parado")),
            ("GET", "/usuarios", None),
            ("GET", "/logs", None),
            ("GET", "/status", None),  # again, now that the pool knows the database is gone
        ]
    ]
    for method, path, response, _ in answers:
        assert response.status_code == 503, f"{method} {path}: {response.text}"
        assert response.headers["Content-Type"] == "application/json"
        if path == "/status":
            assert response.json()["database"] == "unavailable"
        else:
            assert response.json()["error"].startswith("database unavailable")
            assert response.headers["Retry-After"].isdigit()

    record_property("slowest_503_seconds", round(max(a[3] for a in answers), 3))

    stack.container("db").start()
    stack.wait_healthy("db")
    healthy = time.monotonic()
    wait_until(
        lambda: stack.get("/status", timeout=3).status_code == 200,
        timeout=DEADLINE_SECONDS,
        what="the app to serve again once the database is healthy",
    )
    record_property("recovery_seconds", round(time.monotonic() - healthy, 3))
    created = stack.post("/usuarios", json=new_usuario("depois"))
    assert created.status_code == 201, created.text

    assert container_run(stack, "app") == app_before, "the app container was restarted"
    assert counts(stack) == (before[0] + 1, before[1] + 1)  # only the write made after


def test_killed_right_after_a_201_the_rows_are_there_after_restart(stack):
    created = []
    for i in range(WRITES_BEFORE_KILL):
        response = stack.post("/usuarios", json=new_usuario(f"kill-{i}"))
        assert response.status_code == 201, response.text
        created.append(response.json())
    # `docker kill -s KILL` the moment the last 201 arrived: no shutdown, no checkpoint.
    stack.container("db").kill(signal="SIGKILL")
    stack.container("db").start()  # Docker counts a kill as a manual stop: it waits for a start
    stack.wait_healthy("db")

    ids = ",".join(str(u["id"]) for u in created)
    kept = stack.psql(f"SELECT id, nome, email FROM usuarios WHERE id IN ({ids}) ORDER BY id")
    assert kept == "\n".join(f"{u['id']}|{u['nome']}|{u['email']}" for u in created)
    assert stack.psql(f"SELECT count(*) FROM logs WHERE usuario_id IN ({ids})") == str(
        WRITES_BEFORE_KILL
    )
    wait_until(
        lambda: stack.get("/usuarios", params={"after": created[0]["id"] - 1}).status_code == 200,
        timeout=DEADLINE_SECONDS,
        what="the app to serve again",
    )


def test_crashed_database_is_restarted_by_docker_and_keeps_the_row(stack):
    response = stack.post("/usuarios", json=new_usuario("crash"))
    assert response.status_code == 201, response.text
    restarts = stack.container("db").attrs["RestartCount"]
    recoveries = stack.logs("db").count(CRASH_RECOVERY)
    # A crash: the server stops with no shutdown checkpoint, and Docker, which
    # did not ask for it, applies the restart policy (unless-stopped) by itself.
    # The signal goes through the engine into the container's own PID namespace,
    # so it can reach nothing else. Not `docker kill`: this engine (API 1.41)
    # takes any signal it sends as a manual stop and leaves the container down.
    # Not SIGKILL: PID 1 of a namespace ignores it from inside; SIGQUIT is
    # PostgreSQL's immediate shutdown, which leaves the data as a crash would.
    # Detached: the exec dies with the container, and the restart is the evidence.
    stack.container("db").exec_run(["sh", "-c", "kill -QUIT 1"], detach=True)
    wait_for_db_restart(stack, restarts)
    assert stack.logs("db").count(CRASH_RECOVERY) == recoveries + 1
    row = stack.psql(f"SELECT email FROM usuarios WHERE id = {response.json()['id']}")
    assert row == response.json()["email"]


def test_concurrent_posts_with_distinct_emails_all_land_once(stack):
    before = counts(stack)
    tag = uuid.uuid4().hex[:8]
    bodies = [
        {"nome": f"Concorrente {i}", "email": f"conc-{tag}-{i}@example.com"}
        for i in range(CONCURRENT_DISTINCT)
    ]
    responses = all_at_once(lambda body: stack.post("/usuarios", json=body, timeout=60), bodies)

    assert [r.status_code for r in responses] == [201] * CONCURRENT_DISTINCT
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == CONCURRENT_DISTINCT
    assert [r.json()["email"] for r in responses] == [b["email"] for b in bodies]
    assert counts(stack) == (before[0] + CONCURRENT_DISTINCT, before[1] + CONCURRENT_DISTINCT)
    id_list = ",".join(map(str, ids))
    per_user = stack.psql(
        f"SELECT count(*), count(DISTINCT usuario_id) FROM logs "
        f"WHERE acao = 'usuario_criado' AND usuario_id IN ({id_list})"
    )
    assert per_user == f"{CONCURRENT_DISTINCT}|{CONCURRENT_DISTINCT}"


def test_concurrent_posts_with_one_email_create_it_exactly_once(stack):
    before = counts(stack)
    email = f"mesmo-{uuid.uuid4().hex[:8]}@example.com"
    responses = all_at_once(
        lambda i: stack.post(
            "/usuarios", json={"nome": f"Corrida {i}", "email": email}, timeout=60
        ),
        list(range(CONCURRENT_SAME)),
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (CONCURRENT_SAME - 1)
    assert all(r.json()["field"] == "email" for r in responses if r.status_code == 409)
    assert stack.psql(f"SELECT count(*) FROM usuarios WHERE lower(email) = '{email}'") == "1"
    assert counts(stack) == (before[0] + 1, before[1] + 1)


def reader_line(stack, start: int, text: str) -> int | None:
    """1 + the index of the first line of the reader's log from `start` on that holds text."""
    lines = stack.logs("reader").splitlines()
    return next((i + 1 for i in range(start, len(lines)) if text in lines[i]), None)


def test_reader_keeps_reading_through_an_app_restart(stack):
    reader_before = container_run(stack, "reader")
    seen = len(stack.logs("reader").splitlines())
    stack.container("app").stop(timeout=10)
    # Reads went on while the app was away: the reader says it could not reach it...
    away = wait_until(
        lambda: reader_line(stack, seen, "status=000"),
        timeout=DEADLINE_SECONDS,
        what="the reader to log a failed read while the app is stopped",
    )
    stack.container("app").start()
    stack.wait_healthy("app", timeout=DEADLINE_SECONDS)
    # ...and succeeds again once it is back, from the same reader process.
    wait_until(
        lambda: reader_line(stack, away, "GET /usuarios status=200"),
        timeout=DEADLINE_SECONDS,
        what="the reader to read /usuarios successfully after the app restart",
    )
    assert container_run(stack, "reader") == reader_before, "the reader was restarted"
    assert stack.container("reader").status == "running"


def test_destroy_and_up_cycles_with_writes_in_between_lose_no_row(stack):
    written = []
    for cycle in range(CYCLES):
        for i in range(WRITES_PER_CYCLE):
            response = stack.post("/usuarios", json=new_usuario(f"ciclo-{cycle}-{i}"))
            assert response.status_code == 201, response.text
            written.append(response.json()["id"])
        usuarios, logs = usuarios_table(stack), logs_table(stack)

        stack.destroy()
        assert stack.volume() is not None
        stack.up()
        stack.wait_for("/status")

        assert usuarios_table(stack) == usuarios, f"usuarios changed in cycle {cycle}"
        # The new app container adds its start record; every older row stays as it was.
        assert logs_table(stack).startswith(logs), f"logs changed in cycle {cycle}"

    ids = ",".join(map(str, written))
    assert stack.psql(f"SELECT count(*) FROM usuarios WHERE id IN ({ids})") == str(len(written))
