"""One node of the test swarm: a Docker engine in a container of the host engine."""

import re
from dataclasses import dataclass, field

import docker
import docker.errors
import requests

from testing.live import unavailable
from testing.postgres_server import free_port
from testing.swarm.images import NODE_IMAGE
from testing.waiting import WaitTimeout, wait_for

REGISTRY = "registry:5000"
# Where a service's host-mode published port listens inside a node.
APP_PORT = 5000
ENGINE_PORT = 2375
# Generous: a node's dockerd on a loaded 2-core machine.
ENGINE_TIMEOUT = 90
NOISE = re.compile(r"module=grpc|loading plugin|skip loading plugin")


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


def run_node(
    host: docker.DockerClient, prefix: str, short: str, network_name: str, address: str
) -> Node:
    """Start one node's container: a dockerd on the private network at a fixed address."""
    name = f"{prefix}{short}"
    volume = f"{name}-docker"
    engine_port, app_port = free_port(), free_port()
    container = host.containers.run(
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
        labels={"desafio2.swarm-cluster": prefix},
        cap_add=["ALL"],
        cap_drop=["SYS_RESOURCE"],
        security_opt=["seccomp=unconfined", "apparmor=unconfined"],
        volumes={
            "/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"},
            volume: {"bind": "/var/lib/docker", "mode": "rw"},
        },
        network=network_name,
        networking_config={network_name: host.api.create_endpoint_config(ipv4_address=address)},
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


def wait_engine(node: Node, timeout: float = ENGINE_TIMEOUT, *, first_start: bool = True) -> None:
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
