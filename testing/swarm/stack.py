"""The stack on the test swarm (config `target: swarm`), isolated like tests/e2e's
LiveStack: every name it gives starts with its prefix, and its database node
label is its own. Its backend is the session's (testing/live/selection.py): the
harness or the real Pulumi engine, either talking to the manager, as the provider
would (the real one through the `docker:host` config).

`Balancer` stands in for what docs/swarm.md asks users to put in front of the
app's nodes: a load balancer that sends each request to the next node and, when
a node does not answer, to the one after it.
"""

import itertools
import threading
import time
import uuid

import docker.errors
import requests

from infra.settings import defaults
from testing.live import EffectiveConfig, Engine, chosen, isolated_config, psql_in
from testing.live.stack import backend_for
from testing.program import ProgramRun
from testing.swarm.cluster import SwarmCluster
from testing.swarm.node import APP_PORT

_DEFAULTS = defaults()


class SwarmStack:
    def __init__(
        self,
        cluster: SwarmCluster,
        prefix: str,
        *,
        engine: Engine | None = None,
        **overrides: object,
    ):
        self.cluster = cluster
        self.prefix = prefix
        self.engine = engine or chosen()
        self.backend = backend_for(
            self.engine, cluster.manager_client, prefix, docker_host=cluster.manager.engine_url
        )
        self.db_label = f"{prefix}db"
        self.config: dict[str, object] = {
            **isolated_config(prefix),
            # Where each node's published port is reachable from the host (node.app_url).
            "appHostPort": APP_PORT,
            "target": "swarm",
            "registry": cluster.registry,
            "dbImage": cluster.mirrored(_DEFAULTS.db_image),
            "readerImage": cluster.mirrored(_DEFAULTS.reader_image),
            "dbNodeLabel": self.db_label,
            "appPublicHost": "127.0.0.1",
            **overrides,
        }
        self.run: ProgramRun | None = None
        cluster.label(cluster.manager, self.db_label, "true")

    # -- the stack's lifecycle --

    def up(self, **config: object) -> ProgramRun:
        self.config.update(config)
        self.run = self.backend.up(dict(self.config))
        return self.run

    def destroy(self) -> None:
        self.backend.destroy()
        self.run = None

    def purge(self) -> None:
        """Remove all it made: services, secrets, configs, network, and its volume on every node."""
        errors = self.backend.purge()
        manager = self.cluster.manager_client
        for service in manager.services.list():
            if service.name.startswith(self.prefix):
                service.remove()
        for node in self.cluster.nodes:
            for volume in node.client.volumes.list():
                if volume.name.startswith(self.prefix):
                    _remove_when_free(volume)
        if errors:
            raise RuntimeError(f"cleanup of {self.prefix}* was incomplete: {errors}")

    @property
    def steps(self) -> dict[str, str]:
        """What the last up or destroy did to each resource, by name (LiveStack.steps)."""
        return self.backend.steps

    def build_from(self, project_root) -> None:
        """Build the app from another copy of the project in the next ups."""
        self.backend.build_from(project_root)

    def setting(self, key: str):
        """A config value as the program sees it, defaults included."""
        return EffectiveConfig(self.config)[key]

    @property
    def name(self) -> dict[str, str]:
        """The services' names by role."""
        return {
            "db": str(self.config["dbContainerName"]),
            "migrator": str(self.config["migratorContainerName"]),
            "app": str(self.config["appContainerName"]),
            "reader": str(self.config["readerContainerName"]),
        }

    # -- where things run --

    def nodes_running(self, role: str) -> list[str]:
        """Hostnames of the nodes with a running task of the role's service."""
        return sorted(
            host
            for host, state in self.cluster.tasks(self.name[role], desired="running")
            if state == "running"
        )

    def container(self, role: str):
        """The running container of the role's (first) task, on its node."""
        for host in self.nodes_running(role):
            found = self.cluster.node(host).client.containers.list(
                filters={"label": f"com.docker.swarm.service.name={self.name[role]}"}
            )
            if found:
                return found[0]
        raise LookupError(f"no running {role} container")

    def app_urls(self) -> list[str]:
        return [self.cluster.node(host).app_url for host in self.nodes_running("app")]

    def psql(self, sql: str) -> str:
        return psql_in(self.container("db"), self.setting("dbUser"), self.setting("dbName"), sql)

    def volumes(self) -> dict[str, dict]:
        """{node hostname: the volume's attributes} for every node that has the volume."""
        name = str(self.config["volumeName"])
        found = {}
        for node in self.cluster.nodes:
            try:
                found[node.hostname] = node.client.api.inspect_volume(name)
            except docker.errors.NotFound:
                continue
        return found


def _remove_when_free(volume, timeout: float = 60) -> None:
    # A volume stays in use for a moment after its last task's container is removed.
    deadline = time.monotonic() + timeout
    while True:
        try:
            volume.remove(force=True)
            return
        except docker.errors.NotFound:
            return
        except docker.errors.APIError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


class Balancer:
    """Round robin over the nodes' app ports. A node that refuses the connection
    (nothing was served) is skipped for the next, as a load balancer does.

    A request fails when no node answers it, when it times out, or when the answer
    is a 5xx: `failures` lists them. `retried` counts the requests another node
    answered; `longest_gap` is the longest time without an answer, the time from
    the last answer to `stop()` included.
    """

    def __init__(self, urls: list[str], timeout: float = 5):
        self.urls = urls
        self.timeout = timeout
        self._next = itertools.cycle(range(len(urls)))
        self._lock = threading.Lock()
        self.failures: list[str] = []
        self.retried = 0
        self.answered = 0
        self.longest_gap = 0.0
        self._last_answer = time.monotonic()

    def request(self, method: str, path: str, **kwargs) -> requests.Response | None:
        with self._lock:
            start = next(self._next)
        refused = []
        for attempt in range(len(self.urls)):
            url = self.urls[(start + attempt) % len(self.urls)]
            try:
                response = requests.request(method, url + path, timeout=self.timeout, **kwargs)
            except requests.ConnectionError as error:
                refused.append(f"{url}: {type(error).__name__}")
                continue
            except requests.RequestException as error:
                self._failed(f"{method} {path} on {url}: {type(error).__name__}")
                return None
            if response.status_code >= 500:
                self._failed(f"{method} {path} on {url}: {response.status_code} {response.text}")
                return None
            with self._lock:
                self._answered()
                self.retried += attempt > 0
            return response
        self._failed(f"{method} {path}: no node answered: {refused}")
        return None

    def stop(self) -> None:
        with self._lock:
            self.longest_gap = max(self.longest_gap, time.monotonic() - self._last_answer)

    def _answered(self) -> None:
        now = time.monotonic()
        self.longest_gap = max(self.longest_gap, now - self._last_answer)
        self._last_answer = now
        self.answered += 1

    def _failed(self, what: str) -> None:
        with self._lock:
            self.failures.append(what)


class Clients:
    """Threads that each call `work(stop)` until stopped; what they raise is kept and
    raised again by `stop()`, so that an assertion in a client fails the test."""

    def __init__(self, *works):
        self._stop = threading.Event()
        self._errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._run, args=(work,)) for work in works]
        for thread in self._threads:
            thread.start()

    def _run(self, work) -> None:
        try:
            work(self._stop)
        except BaseException as error:  # handed to the test by stop()
            self._errors.append(error)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        if self._errors:
            raise self._errors[0]


def read_steadily(balancer: Balancer, path: str = "/status"):
    def work(stop: threading.Event) -> None:
        while not stop.is_set():
            response = balancer.request("GET", path)
            assert response is None or response.status_code == 200, response.text
            time.sleep(0.05)

    return work


def write_steadily(balancer: Balancer, written: list[dict], worker: int):
    def work(stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            email = f"rollout-{worker}-{n}-{uuid.uuid4().hex[:6]}@example.com"
            response = balancer.request(
                "POST", "/usuarios", json={"nome": "Rollout", "email": email}
            )
            if response is not None:
                assert response.status_code == 201, response.text
                written.append(response.json())
            read = balancer.request("GET", "/usuarios?limit=5")
            assert read is None or read.status_code == 200, read.text

    return work


def lost_rows(stack: SwarmStack, written: list[dict]) -> list[str]:
    """The emails of rows write_steadily was answered for that the database lacks."""
    stored = set(stack.psql("SELECT email FROM usuarios WHERE nome = 'Rollout'").split())
    return [row["email"] for row in written if row["email"] not in stored]


def report(capsys, line: str) -> None:
    """A figure docs/swarm.md quotes, printed whatever pytest captures."""
    with capsys.disabled():
        print(f"\nswarm figures: {line}")
