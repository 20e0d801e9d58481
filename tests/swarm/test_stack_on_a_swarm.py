"""The stack with `target: swarm` on a real three-node swarm (testing/swarm/cluster.py):
the issue's five scenarios, and the figures docs/swarm.md quotes (printed)."""

import os
import re
import secrets
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from testing.api_role import INSUFFICIENT_PRIVILEGE, REFUSED, psql_command
from testing.figures import ANA, SEED_USUARIOS
from testing.harness import PROJECT_ROOT
from testing.live import StackError, wait_until
from testing.swarm.stack import (
    Balancer,
    Clients,
    SwarmStack,
    lost_rows,
    read_steadily,
    report,
    write_steadily,
)


@pytest.fixture(scope="module")
def swarm_stack(swarm_cluster, stack_factory):
    stack = SwarmStack(swarm_cluster, f"{stack_factory.prefix}sw-")
    started = time.monotonic()
    try:
        stack.up()
    except BaseException:
        stack.purge()
        raise
    stack.up_seconds = time.monotonic() - started
    yield stack
    stack.purge()


def get_json(url: str):
    response = requests.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_walkthrough_through_the_published_port(swarm_stack, swarm_cluster):
    """The original project's walk-through (tests/e2e/test_lifecycle.py's), each request
    to a node that runs an app task, in turn: they serve one database."""
    app_nodes = swarm_stack.nodes_running("app")
    assert len(app_nodes) == 2, app_nodes
    assert swarm_stack.nodes_running("db") == [swarm_cluster.manager.hostname]
    first, second = swarm_stack.app_urls()
    seed = get_json(f"{first}/usuarios")
    assert [(u["nome"], u["email"]) for u in seed] == SEED_USUARIOS

    created = requests.post(f"{first}/usuarios", json=ANA, timeout=10)
    assert created.status_code == 201, created.text
    ana = created.json()
    assert get_json(f"{second}/usuarios") == [*seed, ana]
    creation = [e for e in get_json(f"{second}/logs") if e["usuario_id"] == ana["id"]]
    assert len(creation) == 1 and "Ana Costa" in creation[0]["mensagem"]
    status = get_json(f"{first}/status")
    assert (status["status"], status["database"], status["usuarios"], status["volume"]) == (
        "ok",
        "ok",
        4,
        swarm_stack.config["volumeName"],
    )

    (idle,) = {n.hostname for n in swarm_cluster.nodes} - set(app_nodes)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{swarm_cluster.node(idle).app_url}/status", timeout=3)
    outputs = swarm_stack.run.outputs
    assert outputs["usuariosUrl"] == "http://127.0.0.1:5000/usuarios"
    assert outputs["dbService"] == swarm_stack.name["db"]

    # The reader, a service too, reads the app by its alias over the overlay network.
    expected = [
        "GET /status status=200",
        "GET /usuarios status=200 count=4",
        "GET /logs status=200",
    ]
    wait_until(
        lambda: all(line in swarm_stack.container("reader").logs().decode() for line in expected),
        60,
        f"the reader to log {expected}",
    )


def test_a_second_up_changes_nothing(swarm_stack):
    swarm_stack.up()
    assert set(swarm_stack.steps.values()) == {"same"}, swarm_stack.steps


def count_running_app_tasks(swarm_stack, counts: list[int]):
    def work(stop: threading.Event) -> None:
        while not stop.is_set():
            counts.append(len(swarm_stack.nodes_running("app")))
            time.sleep(0.3)

    return work


def app_copy(tmp_path: Path, file: str, appended: str) -> Path:
    """The project's app/ (and Pulumi.yaml) copied, one of its files changed."""
    shutil.copytree(PROJECT_ROOT / "app", tmp_path / "app")
    with (tmp_path / "app" / file).open("a", encoding="utf-8") as changed:
        changed.write(appended)
    shutil.copy(PROJECT_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


def test_killed_worker_the_api_keeps_answering_and_the_task_moves(
    swarm_stack, swarm_cluster, capsys
):
    app_nodes = swarm_stack.nodes_running("app")
    victim = next(h for h in app_nodes if h != swarm_cluster.manager.hostname)
    balancer = Balancer([n.app_url for n in swarm_cluster.nodes], timeout=3)
    clients = Clients(read_steadily(balancer))
    try:
        time.sleep(2)
        killed_at = time.monotonic()
        swarm_cluster.kill(victim)
        moved = wait_until(
            lambda: (
                (nodes := swarm_stack.nodes_running("app"))
                and len(nodes) == 2
                and victim not in nodes
                and nodes
            ),
            180,
            f"the app task of {victim} to run on another node",
            interval=0.5,
        )
        rescheduled_after = time.monotonic() - killed_at
        time.sleep(2)
    finally:
        clients.stop()
        balancer.stop()
        swarm_cluster.restart(victim)
    report(
        capsys,
        f"node killed: longest gap between answers {balancer.longest_gap:.2f} s, "
        f"{balancer.answered} answered, {balancer.retried} sent on to another node, "
        f"{len(balancer.failures)} failed; task running again on {moved} after "
        f"{rescheduled_after:.1f} s",
    )
    assert balancer.failures == []
    assert balancer.longest_gap < 5
    assert set(moved) == {n.hostname for n in swarm_cluster.nodes} - {victim}


def app_image(swarm_stack, swarm_cluster) -> str:
    """The image the app's service runs, as the swarm has it: the same on both
    backends, whose states keep the service's outputs in shapes of their own."""
    service = swarm_cluster.manager_client.api.inspect_service(swarm_stack.name["app"])
    return service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]


def test_rolling_update_under_reads_and_writes_fails_nothing_and_loses_no_row(
    swarm_stack, swarm_cluster, tmp_path: Path, capsys
):
    # A new image: the same app, one of its files changed (a comment).
    changed = app_copy(tmp_path, "healthcheck.py", f"# rollout {uuid.uuid4().hex}\n")
    old_image = app_image(swarm_stack, swarm_cluster)
    balancer = Balancer([n.app_url for n in swarm_cluster.nodes])
    written: list[dict] = []
    running: list[int] = []
    clients = Clients(
        write_steadily(balancer, written, 1),
        write_steadily(balancer, written, 2),
        count_running_app_tasks(swarm_stack, running),
    )
    try:
        time.sleep(2)
        swarm_stack.build_from(changed)
        started = time.monotonic()
        swarm_stack.up()
        rollout_seconds = time.monotonic() - started
        time.sleep(2)
    finally:
        swarm_stack.build_from(PROJECT_ROOT)
        clients.stop()
        balancer.stop()
    new_image = app_image(swarm_stack, swarm_cluster)
    lost = lost_rows(swarm_stack, written)
    report(
        capsys,
        f"rolling update in {rollout_seconds:.1f} s: {balancer.answered} requests answered, "
        f"{balancer.retried} sent on to another node, {len(balancer.failures)} failed, "
        f"{len(written)} rows written, {len(lost)} lost; running app tasks between "
        f"{min(running)} and {max(running)}",
    )
    assert swarm_stack.steps["app-flask"] == "update"
    assert new_image != old_image
    assert balancer.failures == []
    assert lost == []
    assert written, "no write went through during the rollout"
    # Start-first: a new task runs before an old one stops, never fewer than the replicas.
    assert min(running) >= 2, running


def test_an_image_that_does_not_start_is_rolled_back_and_the_old_one_keeps_serving(
    swarm_stack, swarm_cluster, tmp_path: Path
):
    # A new image whose app cannot start: its gunicorn config fails at import.
    broken = app_copy(tmp_path, "gunicorn.conf.py", "\nraise SystemExit('broken on purpose')\n")
    swarm_stack.up()  # the app as the project has it (a test before may have rolled another)
    serving = app_image(swarm_stack, swarm_cluster)
    balancer = Balancer([n.app_url for n in swarm_cluster.nodes])
    clients = Clients(read_steadily(balancer, "/usuarios?limit=5"))
    try:
        swarm_stack.build_from(broken)
        # The provider's text (resource_docker_service_funcs.go:444 and :469).
        with pytest.raises(StackError, match=r"service rollback completed: "):
            swarm_stack.up()
    finally:
        swarm_stack.build_from(PROJECT_ROOT)
        clients.stop()
        balancer.stop()
    assert app_image(swarm_stack, swarm_cluster) == serving
    assert balancer.failures == []
    # The next up, with the app as it was, finds the service as it was.
    swarm_stack.up()
    assert swarm_stack.steps["app-flask"] == "same", swarm_stack.backend.log[-16:]


def test_destroy_then_up_every_row_back_and_the_volume_never_left_its_node(
    swarm_stack, swarm_cluster
):
    def where_the_volume_is():
        # Which node holds it, and where (a local volume's CreatedAt is the mtime
        # of its directory: it moves with every write, so it is left out).
        return {node: attrs["Mountpoint"] for node, attrs in swarm_stack.volumes().items()}

    before = swarm_stack.psql("SELECT id, email, data_criacao FROM usuarios ORDER BY id")
    placed = where_the_volume_is()
    assert list(placed) == [swarm_cluster.manager.hostname]
    swarm_stack.destroy()
    assert swarm_stack.steps["dados-postgres"] == "retain"
    assert where_the_volume_is() == placed
    assert not [
        s
        for s in swarm_cluster.manager_client.services.list()
        if s.name.startswith(swarm_stack.prefix)
    ]
    swarm_stack.up()
    assert swarm_stack.psql("SELECT id, email, data_criacao FROM usuarios ORDER BY id") == before
    assert where_the_volume_is() == placed
    assert swarm_stack.nodes_running("db") == [swarm_cluster.manager.hostname]


@pytest.mark.parametrize(
    ("key", "path", "holders"),
    [
        ("dbPassword", "/run/secrets/db_password", ("db", "migrator")),
        ("dbApiPassword", "/run/secrets/db_api_password", ("migrator", "app")),
    ],
    ids=["owner", "api"],
)
def test_each_password_is_only_where_it_is_used_and_in_no_inspect_env_label_or_log(
    swarm_stack, swarm_cluster, key, path, holders
):
    password = str(swarm_stack.config[key])
    # It did reach the services that use it, as a file, and no other.
    for role in swarm_stack.name:
        found = swarm_stack.container(role).exec_run(["cat", path])
        if role in holders:
            assert found.output.decode() == password, role
        else:
            assert found.exit_code != 0, f"{role} holds {path}"
    manager = swarm_cluster.manager_client.api
    seen = [repr(manager.inspect_service(name)) for name in swarm_stack.name.values()]
    seen += [repr(manager.tasks(filters={"service": name})) for name in swarm_stack.name.values()]
    seen += [repr(manager.inspect_secret(s["ID"])) for s in manager.secrets()]
    seen += [repr(node.attrs) for node in swarm_cluster.manager_client.nodes.list()]
    for node in swarm_cluster.nodes:
        for container in node.client.containers.list(all=True):
            if not container.name.startswith(tuple(swarm_stack.name.values())):
                continue
            seen.append(repr(container.attrs))
            seen.append(container.logs().decode("utf-8", errors="replace"))
            seen.append(
                container.exec_run(["env"]).output.decode() if container.status == "running" else ""
            )
    assert len(seen) > 10
    assert not [text[:200] for text in seen if password in text]


def test_up_time_against_a_single_host(swarm_stack, make_stack, capsys):
    started = time.monotonic()
    make_stack()
    host_seconds = time.monotonic() - started
    report(
        capsys,
        f"up from nothing: swarm {swarm_stack.up_seconds:.1f} s, one host {host_seconds:.1f} s "
        f"({swarm_stack.up_seconds / host_seconds:.1f}x)",
    )
    assert swarm_stack.up_seconds > 0


def test_make_status_psql_and_the_migration_report_find_the_services_and_their_nodes(
    swarm_stack, swarm_cluster
):
    # The docker CLI pointed at the manager, which holds the database, as a user's would be.
    env = {
        **os.environ,
        "DOCKER_HOST": swarm_cluster.manager.engine_url,
        "DB_SERVICE": swarm_stack.name["db"],
        "MIGRATOR_SERVICE": swarm_stack.name["migrator"],
        "APP_SERVICE": swarm_stack.name["app"],
        "READER_SERVICE": swarm_stack.name["reader"],
        "VOLUME_NAME": str(swarm_stack.config["volumeName"]),
    }

    def make(target: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", "--no-print-directory", target],
            cwd=PROJECT_ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    status = make("status")
    assert status.returncode == 0, status.stdout + status.stderr
    app_nodes = ", ".join(swarm_stack.nodes_running("app"))
    assert f"{swarm_stack.name['app']}: 2/2 tasks running, on " in status.stdout
    for node in swarm_stack.nodes_running("app"):
        assert node in status.stdout.split(swarm_stack.name["app"])[1].splitlines()[0], app_nodes
    assert f"{swarm_stack.name['db']}: 1/1 tasks running, on manager" in status.stdout
    # Then each task, with its health: the app's two, on the nodes that run them.
    app_tasks = status.stdout.split(swarm_stack.name["app"])[1].splitlines()[1:3]
    task_nodes = [
        re.match(r"    task \d+: running, healthy, on (\S+) since ", line) for line in app_tasks
    ]
    assert all(task_nodes), status.stdout
    assert sorted(found[1] for found in task_nodes) == swarm_stack.nodes_running("app")
    counted = make("psql", "SELECT count(*) FROM usuarios;")
    assert counted.returncode == 0, counted.stderr
    assert int(counted.stdout.split()[2]) == int(swarm_stack.psql("SELECT count(*) FROM usuarios"))
    assert f"{swarm_stack.name['migrator']}: 1/1 tasks running, on manager" in status.stdout
    # What `make up` prints after pulumi up: the migrator's migration lines.
    report = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "migration-report.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert report.returncode == 0, report.stderr
    # Applied by the first tasks, or found current after a destroy and up.
    assert re.search(
        r"^migrations: (applied 0001_|the schema is current)", report.stdout, re.MULTILINE
    ), report.stdout


# The API's role, as on one host (tests/e2e/test_api_role.py).
# The migrator holds no session once it has migrated, and the reader none at all:
# every session from another container is one of the app's tasks.
REMOTE_SESSIONS = (
    "SELECT DISTINCT usename FROM pg_stat_activity "
    "WHERE backend_type = 'client backend' AND client_addr IS NOT NULL"
)


def test_the_app_tasks_talk_to_the_database_as_the_api_role(swarm_stack):
    first, _ = swarm_stack.app_urls()
    assert requests.get(f"{first}/usuarios", timeout=10).status_code == 200
    assert swarm_stack.psql(REMOTE_SESSIONS).split() == ["api"]
    assert (
        swarm_stack.psql(
            "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'api'"
        )
        == "f|f|f"
    )


@pytest.mark.parametrize("what", ["create a table", "run a program", "read pg_authid"])
def test_the_api_role_is_refused_on_a_swarm(swarm_stack, what):
    # In the database's task, as the role: its rights are tested, not its password
    # (the image trusts connections from inside its own container).
    sql = REFUSED[what]
    command = psql_command("api", str(swarm_stack.setting("dbName")), sql, host="127.0.0.1")
    result = swarm_stack.container("db").exec_run(command)
    output = result.output.decode("utf-8", errors="replace")
    assert result.exit_code != 0 and f"ERROR:  {INSUFFICIENT_PRIVILEGE}:" in output, output


def test_the_api_role_still_writes_and_refuses_a_duplicate_on_a_swarm(swarm_stack):
    first, second = swarm_stack.app_urls()
    email = f"enxame-{secrets.token_hex(4)}@example.com"
    created = requests.post(f"{first}/usuarios", json={"nome": "E", "email": email}, timeout=10)
    assert created.status_code == 201, created.text
    again = {"nome": "F", "email": email.upper()}
    assert requests.post(f"{second}/usuarios", json=again, timeout=10).status_code == 409
