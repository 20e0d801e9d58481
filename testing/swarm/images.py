"""The images of the test swarm: the node and registry images built on the host, and
the stack's images copied from the host engine into the nodes."""

import queue
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import docker.errors

from testing.live import unavailable

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = PROJECT_ROOT / ".ci/images/build-swarm-images.sh"
NODE_IMAGE = "desafio2-ci/swarm-node:bookworm"
REGISTRY_IMAGE = "desafio2-ci/registry:2.8"


def push_to_registry(client: docker.DockerClient, name: str, registry: str) -> str:
    """Tag a local image under the registry's name, push it; returns the new name."""
    mirrored = f"{registry}/{name}"
    repository, tag = mirrored.rsplit(":", 1)
    client.images.get(name).tag(repository, tag)
    for line in client.api.push(repository, tag=tag, stream=True, decode=True):
        if "error" in line:
            raise RuntimeError(f"pushing {mirrored} failed: {line['error']}")
    return mirrored


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


def copy_images(host: docker.DockerClient, names: list[str], nodes: list) -> None:
    """`docker save | docker load`: one archive read from the host, streamed to every node at once."""
    # One archive for several images: the layers they share (the Debian base
    # of every stand-in) travel once. Bounded queues: a slow node slows the
    # reading instead of filling memory.
    queues = [queue.Queue(maxsize=16) for _ in nodes]
    done = object()

    def load(node, source: queue.Queue) -> None:
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
            response = host.api.get(
                f"{host.api.base_url}/images/get",
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
                raise RuntimeError(f"loading {names} into {node.name} failed: {error}") from error
