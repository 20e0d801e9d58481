"""A real Docker Swarm of three nodes on this machine, for the swarm tests.

Each node is a Docker engine in a container of the host engine (the image
`desafio2-ci/swarm-node:bookworm`, .ci/images/swarm-node/), on a private bridge
network with a registry (`desafio2-ci/registry:2.8`, network alias `registry`).
Everything on the host carries the cluster's prefix, so a sweep by prefix
removes it whatever state a test left.

From the host, a test reaches the cluster only on 127.0.0.1: each node's
Docker API (2375) and its port APP_PORT, where a service published in host
mode answers when the node runs one of its tasks (`node.app_url`).

Why the node containers are run as they are (see ../shared/docs/environment.md):
`--privileged` is refused on these machines, so all capabilities but
SYS_RESOURCE, no seccomp or AppArmor profile, and the host's cgroup tree with a
parent per node; no IPVS in the kernel, so services must use `endpoint_mode:
dnsrr` and ports published in `mode: host`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import queue
import re
import subprocess
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors
import docker.types
import requests

from testing.postgres_server import free_port
from tests.e2e.live import sweep, unavailable
from tests.support.waiting import WaitTimeout, wait_for

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = PROJECT_ROOT / ".ci/images/build-swarm-images.sh"
NODE_IMAGE = "desafio2-ci/swarm-node:bookworm"
REGISTRY_IMAGE = "desafio2-ci/registry:2.8"
REGISTRY = "registry:5000"
# Where a service's host-mode published port listens inside a node.
APP_PORT = 5000
ENGINE_PORT = 2375
# What the stack runs on every node, and what only the manager needs (the app
# image is built there, then pushed to the registry for the others).
EVERY_NODE_IMAGES = ("postgres:15-alpine", "curlimages/curl:8.4.0")
MANAGER_IMAGES = ("python:3.11-slim",)
NODE_NAMES = ("manager", "worker1", "worker2")
NOISE = re.compile(r"module=grpc|loading plugin|skip loading plugin")
CGROUP_ROOT = Path("/sys/fs/cgroup")

# Generous: a node's dockerd on a loaded 2-core machine, a swarm's heartbeat
# (5 s) and its node-down grace period (a few heartbeats).
ENGINE_TIMEOUT = 90
READY_TIMEOUT = 120


@dataclass
class Node:
    """One swarm node. `name` is its container's name on the host engine;
    `hostname` is how the swarm names it (`docker node ls`, a task's node)."""

    name: str
    hostname: str
    role: str
    client: docker.DockerClient | None
    container: object  # docker.models.containers.Container, on the host engine
    app_url: str
    engine_url: str
    address: str = ""  # on the private network: what the swarm advertises
    volume: str = field(default="", repr=False)

    def log(self, tail: int = 25) -> str:
        """The end of the node's dockerd log, without containerd's start-up chatter
        (the reason a dockerd stopped is on its last line)."""
        try:
            text = self.container.logs(tail=400).decode("utf-8", errors="replace")
        except docker.errors.APIError as error:
            return f"(no log: {error})"
        lines = [line for line in text.splitlines() if not NOISE.search(line)]
        return "\n".join(lines[-tail:])


@dataclass
class Timings:
    """Seconds each phase of the cluster's start took, for the reports."""

    images_built: float = 0.0
    nodes_started: float = 0.0
    swarm_formed: float = 0.0
    images_loaded: float = 0.0
    closed: float = 0.0

    @property
    def total(self) -> float:
        return self.images_built + self.nodes_started + self.swarm_formed + self.images_loaded


def ensure_images(host: docker.DockerClient) -> None:
    """Build the node and registry images (a second or so when up to date); skip the
    test, or fail under CI=true, when they cannot be built."""
    try:
        result = subprocess.run(
            ["bash", str(BUILD_SCRIPT)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        unavailable(f"the swarm node image could not be built: {error}")
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-30:]
        unavailable(
            f"the swarm node image could not be built ({BUILD_SCRIPT.name} exited "
            f"{result.returncode}):\n" + "\n".join(output)
        )
    for image in (NODE_IMAGE, REGISTRY_IMAGE):
        try:
            host.images.get(image)
        except docker.errors.ImageNotFound:
            unavailable(f"{image} is missing after {BUILD_SCRIPT.name}")


class SwarmCluster:
    """A manager and two workers, each a Docker engine in a container; see the module doc.

    `SwarmCluster.start(host, prefix)` makes and forms it (skipping the test, or
    failing under CI=true, when a node cannot run here); `close()` removes
    everything it made. Then:

    - `nodes` (manager, worker1, worker2), `manager`, `workers`, `node(name)`;
      `manager_client` is the manager's DockerClient (where services are made);
    - `registry` ("registry:5000"): where nodes push and pull, plain HTTP;
      `registry_url`: the same registry from the host, on 127.0.0.1;
    - `states()`, `wait_ready()`, `wait_state(node, state)`: nodes as the manager
      sees them; `tasks(service)`: [(node hostname, task state)];
    - `label(node, key, value)`; `kill(node)` (SIGKILL, a power cut) and
      `restart(node)`, which a test that kills must call: the cluster is shared;
    - `load_images(names, manager_only)`: more images from the host engine;
    - `timings`: seconds each phase of the start took.
    """

    def __init__(self, host: docker.DockerClient, prefix: str):
        self.host = host
        self.prefix = prefix
        self.network_name = f"{prefix}net"
        self.registry_name = f"{prefix}registry"
        self.registry = REGISTRY
        self.registry_url = ""
        self.nodes: list[Node] = []
        self.timings = Timings()
        self._registry_container = None
        self._addresses: Iterator[str] = iter(())

    # -- making it --

    @classmethod
    def start(
        cls,
        host: docker.DockerClient,
        prefix: str,
        *,
        every_node_images: Iterable[str] = EVERY_NODE_IMAGES,
        manager_images: Iterable[str] = MANAGER_IMAGES,
    ) -> SwarmCluster:
        cluster = cls(host, prefix)
        try:
            started = time.monotonic()
            ensure_images(host)
            cluster.timings.images_built = time.monotonic() - started
            cluster._make_network_and_registry()
            started = time.monotonic()
            cluster._start_nodes()
            cluster.timings.nodes_started = time.monotonic() - started
            started = time.monotonic()
            cluster._form_swarm()
            cluster._wait_registry()
            cluster.timings.swarm_formed = time.monotonic() - started
            cluster.load_images(list(every_node_images), list(manager_images))
        except BaseException:
            cluster.close()
            raise
        return cluster

    def _make_network_and_registry(self) -> None:
        labels = {"desafio2.swarm-cluster": self.prefix}
        registry_port = free_port()
        self.registry_url = f"http://127.0.0.1:{registry_port}"
        self._addresses = self._make_network(labels)
        self._registry_container = self.host.containers.run(
            REGISTRY_IMAGE,
            name=self.registry_name,
            detach=True,
            labels=labels,
            volumes={f"{self.prefix}registry-data": {"bind": "/var/lib/registry", "mode": "rw"}},
            network=self.network_name,
            ports={"5000/tcp": ("127.0.0.1", registry_port)},
            # The alias is what nodes push to and pull from: REGISTRY.
            networking_config={
                self.network_name: self.host.api.create_endpoint_config(
                    aliases=["registry"], ipv4_address=next(self._addresses)
                )
            },
        )

    def _make_network(self, labels: dict[str, str]):
        """The private network, and the fixed addresses its containers take in turn.

        Fixed, because the swarm keeps the address each node advertised: a node
        restarted with another one would never be heard from again. Docker gives
        fixed addresses only on a subnet chosen by the user, and choosing one by
        hand could clash with the shared engine's other networks; so Docker picks
        a free one first, and the network is made again with it as its own.
        """
        network = self.host.networks.create(self.network_name, driver="bridge", labels=labels)
        pool = network.attrs["IPAM"]["Config"][0]
        network.remove()
        subnet = ipaddress.ip_network(pool["Subnet"])
        gateway = pool.get("Gateway") or str(next(subnet.hosts()))
        ipam = docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet=str(subnet), gateway=gateway)]
        )
        self.host.networks.create(self.network_name, driver="bridge", ipam=ipam, labels=labels)
        return (str(host) for host in subnet.hosts() if str(host) != gateway)

    def _start_nodes(self) -> None:
        for short in NODE_NAMES:
            self.nodes.append(self._run_node(short))
        for node in self.nodes:
            self._wait_engine(node)

    def _run_node(self, short: str) -> Node:
        name = f"{self.prefix}{short}"
        volume = f"{name}-docker"
        engine_port, app_port = free_port(), free_port()
        address = next(self._addresses)
        container = self.host.containers.run(
            NODE_IMAGE,
            command=[
                "dockerd",
                "-H",
                "unix:///var/run/docker.sock",
                # Plain TCP, published on the host's loopback only; saying so
                # spares the 15 s a TCP listener without TLS otherwise waits.
                "-H",
                f"tcp://0.0.0.0:{ENGINE_PORT}",
                "--tls=false",
                "--insecure-registry",
                REGISTRY,
                # Each node's containers in their own cgroup subtree of the host's.
                f"--cgroup-parent=/{name}",
                "--storage-driver=overlay2",
            ],
            name=name,
            hostname=short,
            detach=True,
            labels={"desafio2.swarm-cluster": self.prefix},
            cap_add=["ALL"],
            cap_drop=["SYS_RESOURCE"],
            security_opt=["seccomp=unconfined", "apparmor=unconfined"],
            volumes={
                "/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"},
                volume: {"bind": "/var/lib/docker", "mode": "rw"},
            },
            network=self.network_name,
            networking_config={
                self.network_name: self.host.api.create_endpoint_config(ipv4_address=address)
            },
            # Fixed host ports: a node restarted after kill() keeps its URLs.
            ports={
                f"{ENGINE_PORT}/tcp": ("127.0.0.1", engine_port),
                f"{APP_PORT}/tcp": ("127.0.0.1", app_port),
            },
        )
        engine_url = f"tcp://127.0.0.1:{engine_port}"
        return Node(
            name=name,
            hostname=short,
            role="manager" if short == "manager" else "worker",
            client=None,  # made once the engine answers: "auto" negotiates at once
            container=container,
            app_url=f"http://127.0.0.1:{app_port}",
            engine_url=engine_url,
            address=address,
            volume=volume,
        )

    def _wait_engine(
        self, node: Node, timeout: float = ENGINE_TIMEOUT, *, first_start: bool = True
    ) -> None:
        """Until the node's dockerd answers. If it dies or never answers: at the first
        start, this machine cannot run a node (skip, or fail under CI); later, the
        cluster broke (an error). Either way with its log."""
        http_url = node.engine_url.replace("tcp://", "http://")

        def answers():
            node.container.reload()
            if node.container.status != "running":
                return "exited"
            try:
                answer = requests.get(f"{http_url}/_ping", timeout=5)
            except requests.RequestException:
                return None
            return "ok" if answer.ok else None

        try:
            outcome = wait_for(answers, timeout, f"dockerd in {node.name}")
        except WaitTimeout as error:
            outcome = str(error)
        if outcome != "ok":
            reason = (
                f"dockerd did not start in the swarm node {node.name} ({outcome}); "
                f"its log:\n{node.log()}"
            )
            if first_start:
                unavailable(reason)
            raise RuntimeError(reason)
        if node.client is not None:
            node.client.close()
        node.client = docker.DockerClient(base_url=node.engine_url, version="auto", timeout=300)

    def _form_swarm(self) -> None:
        manager = self.manager
        manager.client.swarm.init(advertise_addr=manager.address, listen_addr="0.0.0.0:2377")
        token = manager.client.swarm.attrs["JoinTokens"]["Worker"]
        for worker in self.workers:
            worker.client.swarm.join(
                remote_addrs=[f"{manager.address}:2377"],
                join_token=token,
                advertise_addr=worker.address,
                listen_addr="0.0.0.0:2377",
            )
        self.wait_ready(len(self.nodes))

    def _wait_registry(self) -> None:
        def answers():
            try:
                return requests.get(f"{self.registry_url}/v2/", timeout=3).status_code == 200
            except requests.RequestException:
                return False

        try:
            wait_for(answers, ENGINE_TIMEOUT, f"the registry on {self.registry_url}")
        except WaitTimeout as error:
            log = self._registry_container.logs(tail=20).decode("utf-8", errors="replace")
            unavailable(f"the swarm's registry did not start ({error}); its log:\n{log}")

    def load_images(self, every_node: list[str], manager_only: list[str] = ()) -> None:
        """Copy images from the host engine into the nodes (`docker save | docker load`).
        Each archive is read from the host once and streamed to its nodes at the same time."""
        started = time.monotonic()
        for names, nodes in ((every_node, self.nodes), (manager_only, [self.manager])):
            if names:
                self._copy_images(list(names), nodes)
        self.timings.images_loaded += time.monotonic() - started

    def _copy_images(self, names: list[str], nodes: list[Node]) -> None:
        # One archive for several images: the layers they share (the Debian base
        # of every stand-in) travel once. Bounded queues: a slow node slows the
        # reading instead of filling memory.
        queues = [queue.Queue(maxsize=16) for _ in nodes]
        done = object()

        def load(node: Node, source: queue.Queue) -> None:
            finished = False

            def chunks():
                nonlocal finished
                while (chunk := source.get()) is not done:
                    yield chunk
                finished = True

            try:
                node.client.images.load(chunks())
            finally:
                # A load that failed halfway must not leave the reader blocked on its queue.
                while not finished and source.get() is not done:
                    pass

        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            loads = [pool.submit(load, node, q) for node, q in zip(nodes, queues, strict=True)]
            try:
                response = self.host.api.get(
                    f"{self.host.api.base_url}/images/get",
                    params={"names": names},
                    stream=True,
                    timeout=600,
                )
                response.raise_for_status()
                for chunk in response.iter_content(chunk_size=1 << 20):
                    for q in queues:
                        q.put(chunk)
            finally:
                for q in queues:
                    q.put(done)
            for node, future in zip(nodes, loads, strict=True):
                try:
                    future.result()
                except docker.errors.DockerException as error:
                    raise RuntimeError(
                        f"loading {names} into {node.name} failed: {error}"
                    ) from error

    # -- reading it --

    @property
    def manager(self) -> Node:
        return next(n for n in self.nodes if n.role == "manager")

    @property
    def manager_client(self) -> docker.DockerClient:
        return self.manager.client

    @property
    def workers(self) -> list[Node]:
        return [n for n in self.nodes if n.role == "worker"]

    def node(self, name: str) -> Node:
        """A node by its short name or hostname ("worker1") or its container's name."""
        for node in self.nodes:
            if name in (node.name, node.hostname):
                return node
        raise KeyError(f"no node {name!r}; nodes: {[n.hostname for n in self.nodes]}")

    def _node(self, node: Node | str) -> Node:
        return node if isinstance(node, Node) else self.node(node)

    def _swarm_node(self, node: Node | str):
        hostname = self._node(node).hostname
        for found in self.manager_client.nodes.list():
            if found.attrs["Description"]["Hostname"] == hostname:
                return found
        raise KeyError(f"the manager lists no node {hostname!r}")

    def states(self) -> dict[str, str]:
        """{hostname: state} as the manager sees them: "ready", "down", "unknown"..."""
        return {
            n.attrs["Description"]["Hostname"]: n.attrs["Status"]["State"]
            for n in self.manager_client.nodes.list()
        }

    def wait_ready(self, count: int = 3, timeout: float = READY_TIMEOUT) -> None:
        def ready():
            states = self.states()
            return sum(state == "ready" for state in states.values()) >= count

        try:
            wait_for(ready, timeout, f"{count} ready nodes")
        except WaitTimeout as error:
            raise WaitTimeout(f"{error}; the manager sees {self._states_or_error()}") from None

    def wait_state(self, node: Node | str, state: str, timeout: float = READY_TIMEOUT) -> None:
        """Until the manager sees the node in this state ("ready", "down"). Asks the
        manager: not for a killed manager."""
        hostname = self._node(node).hostname
        wait_for(
            lambda: self.states().get(hostname) == state,
            timeout,
            f"the manager to see {hostname} {state}",
        )

    def _states_or_error(self) -> str:
        try:
            return str(self.states())
        except (docker.errors.APIError, requests.RequestException) as error:
            return f"no answer: {error}"

    def label(self, node: Node | str, key: str, value: str) -> None:
        """`docker node update --label-add key=value`, through the manager."""
        found = self._swarm_node(node)
        spec = dict(found.attrs["Spec"])
        spec["Labels"] = {**(spec.get("Labels") or {}), key: value}
        found.update(spec)

    def tasks(self, service_name: str, desired: str | None = None) -> list[tuple[str | None, str]]:
        """[(node hostname, state)] of the service's tasks, from the manager: every task
        it still lists (shut down and failed ones too), or those with this desired state
        ("running"). The hostname is None for a task not yet given to a node."""
        hostnames = {
            n.id: n.attrs["Description"]["Hostname"] for n in self.manager_client.nodes.list()
        }
        service = self.manager_client.services.get(service_name)
        filters = {"desired-state": desired} if desired else None
        return [
            (hostnames.get(task.get("NodeID")), task["Status"]["State"])
            for task in service.tasks(filters=filters)
        ]

    # -- faults --

    def kill(self, node: Node | str) -> None:
        """SIGKILL the node's container, like pulling its power cord: its dockerd and
        every task on it stop at once, with no goodbye to the swarm."""
        self._node(node).container.kill()

    def restart(self, node: Node | str, timeout: float = READY_TIMEOUT) -> None:
        """Start a killed node's container again; returns when the manager sees it ready."""
        node = self._node(node)
        node.container.start()
        self._wait_engine(node, first_start=False)
        self.wait_state(node, "ready", timeout)

    # -- removing it --

    def close(self) -> None:
        """Remove the nodes, their volumes, the registry and the network, by prefix."""
        started = time.monotonic()
        for node in self.nodes:
            if node.client is not None:
                node.client.close()

        # In parallel: most of the time goes to deleting each node's image store.
        def remove(container, volume: str | None) -> None:
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True, v=True)
            if volume:
                with contextlib.suppress(docker.errors.APIError):
                    self.host.volumes.get(volume).remove(force=True)

        jobs = [(n.container, n.volume) for n in self.nodes]
        if self._registry_container is not None:
            jobs.append((self._registry_container, f"{self.prefix}registry-data"))
        if jobs:
            with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
                list(pool.map(lambda job: remove(*job), jobs))
        sweep(self.host, self.prefix)
        for node in self.nodes:
            _remove_cgroups(node.name)
        self.timings.closed = time.monotonic() - started


def _remove_cgroups(node_name: str) -> None:
    # A node's dockerd made cgroups under /<node name> in the host's tree; killed
    # with its node, it could not remove them. Empty ones go bottom-up; one still
    # in use (or a tree we may not write) is left alone.
    for top in CGROUP_ROOT.glob(f"*/{node_name}"):
        for directory, _, _ in sorted(os.walk(top), key=lambda entry: -len(entry[0])):
            with contextlib.suppress(OSError):
                os.rmdir(directory)
