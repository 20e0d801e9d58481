"""A real Docker Swarm of three nodes on this machine, for the swarm tests.

Each node is a Docker engine in a container of the host engine (the image
`desafio2-ci/swarm-node:bookworm`, .ci/images/swarm-node/), on a private bridge
network with a registry (`desafio2-ci/registry:2.8`, network alias `registry`).
Everything on the host carries the cluster's prefix, so a sweep by prefix
removes it whatever state a test left.

From the host, a test reaches the cluster only on 127.0.0.1: each node's
Docker API (2375) and its port APP_PORT, where a service published in host
mode answers when the node runs one of its tasks (`node.app_url`).

Why the node containers are run as they are (the machines this suite runs on):
`--privileged` is refused on these machines, so all capabilities but
SYS_RESOURCE, no seccomp or AppArmor profile, and the host's cgroup tree with a
parent per node; no IPVS in the kernel, so services must use `endpoint_mode:
dnsrr` and ports published in `mode: host`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import docker.types
import requests

from testing.live import base_images, pulled_images, sweep, unavailable
from testing.postgres_server import free_port
from testing.swarm.images import (
    REGISTRY_IMAGE,
    copy_images,
    ensure_images,
    push_to_registry,
)
from testing.swarm.node import ENGINE_TIMEOUT, REGISTRY, Node, run_node, wait_engine
from testing.waiting import WaitTimeout, wait_for

NODE_NAMES = ("manager", "worker1", "worker2")
CGROUP_ROOT = Path("/sys/fs/cgroup")

# Generous: a swarm's heartbeat (5 s) and its node-down grace period (a few
# heartbeats) on a loaded 2-core machine.
READY_TIMEOUT = 120


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


class SwarmCluster:
    """A manager and two workers, each a Docker engine in a container; see the module doc.

    `SwarmCluster.start(host, prefix)` makes and forms it (skipping the test, or
    failing under CI=true, when a node cannot run here); `close()` removes
    everything it made. Then:

    - `nodes` (manager, worker1, worker2), `manager`, `workers`, `node(name)`;
      `manager_client` is the manager's DockerClient (where services are made);
    - `registry` ("registry:5000"): where nodes push and pull, plain HTTP;
      `registry_url`: the same registry from the host, on 127.0.0.1;
      `mirrored(name)`: where the registry holds an image the services run;
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
        to_manager: Iterable[str] | None = None,
        to_registry: Iterable[str] | None = None,
    ) -> SwarmCluster:
        """`to_manager` defaults to the stack's base images, which go to the manager,
        where the provider works and builds the app image; `to_registry` to the
        images its services run as they are, pushed to the registry under its name
        (`registry:5000/postgres:15-alpine`): no worker holds an image, every node
        pulls what it runs."""
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
            cluster.load_images([], list(base_images() if to_manager is None else to_manager))
            started = time.monotonic()
            for name in pulled_images() if to_registry is None else to_registry:
                push_to_registry(cluster.manager_client, name, cluster.registry)
            cluster.timings.images_loaded += time.monotonic() - started
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
            self.nodes.append(
                run_node(self.host, self.prefix, short, self.network_name, next(self._addresses))
            )
        for node in self.nodes:
            wait_engine(node)

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
                copy_images(self.host, list(names), nodes)
        self.timings.images_loaded += time.monotonic() - started

    # -- reading it --

    def mirrored(self, name: str) -> str:
        """The name nodes pull a base image by: `registry:5000/postgres:15-alpine`."""
        return f"{self.registry}/{name}"

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

    def running_task_ids(self, service_name: str) -> set[str]:
        """IDs of the service's tasks that run now and are meant to: a task restarted by
        an update is a new task, with a new ID."""
        service = self.manager_client.services.get(service_name)
        return {
            task["ID"]
            for task in service.tasks(filters={"desired-state": "running"})
            if task["Status"]["State"] == "running"
        }

    # -- faults --

    def kill(self, node: Node | str) -> None:
        """SIGKILL the node's container, like pulling its power cord: its dockerd and
        every task on it stop at once, with no goodbye to the swarm."""
        self._node(node).container.kill()

    def restart(self, node: Node | str, timeout: float = READY_TIMEOUT) -> None:
        """Start a killed node's container again; returns when the manager sees it ready."""
        node = self._node(node)
        node.container.start()
        wait_engine(node, first_start=False)
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
