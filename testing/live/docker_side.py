"""The Docker engine the e2e stacks run on: reaching it, the base images it needs,
removing what a prefix names, and reading what runs in a container. The same on
both backends (the harness and the real Pulumi engine)."""

import functools
import io
import re
import tarfile
from collections.abc import Callable

import docker
import docker.errors
import pytest
import requests

from infra.settings import SECRETS
from testing.availability import unavailable
from testing.harness import IMAGE, PROJECT_ROOT, REMOTE_IMAGE
from testing.program import ProgramRun, run_program
from testing.waiting import WaitTimeout, wait_for

STANDINS_HINT = "build the local stand-ins: bash .ci/images/build-standins.sh"
DOCKERD_HINT = "start one: bash .ci/start-dockerd.sh"


def connect_engine() -> docker.DockerClient:
    try:
        # "auto": the engine here speaks API 1.41, older than the SDK's default.
        client = docker.from_env(version="auto", timeout=120)
        client.ping()
        return client
    except (docker.errors.DockerException, requests.RequestException) as error:
        unavailable(f"no Docker engine reachable ({error}); {DOCKERD_HINT}")
        raise  # unreachable: unavailable() raises


@functools.cache
def declared() -> ProgramRun:
    """The program's declarations with the defaults, read once per session (mock runtime)."""
    return run_program(dict.fromkeys(SECRETS, "unused"))


def pulled_images() -> list[str]:
    """The images the stack runs as they are, from a registry: what its RemoteImages name."""
    return [image.inputs["name"] for image in declared().of_type(REMOTE_IMAGE)]


def base_images() -> list[str]:
    """The images the stack needs from a registry: what its RemoteImages name and its
    built images start FROM (read from the program's own declarations)."""
    names = pulled_images()
    for image in declared().of_type(IMAGE):
        dockerfile = (PROJECT_ROOT / image.inputs["build"]["dockerfile"]).read_text(
            encoding="utf-8"
        )
        names += re.findall(r"^FROM\s+(?:--platform=\S+\s+)?(\S+)", dockerfile, re.MULTILINE)
    return names


def image_available(client: docker.DockerClient, name: str) -> bool:
    """The image is in the engine, or has just been pulled into it."""
    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        try:
            client.images.pull(name)
        except docker.errors.APIError:
            return False
    return True


def require_base_images(client: docker.DockerClient) -> None:
    missing = [name for name in base_images() if not image_available(client, name)]
    if missing:
        unavailable(
            f"base image(s) {', '.join(missing)} are not in the Docker engine and cannot be "
            f"pulled; {STANDINS_HINT}"
        )


def sweep(client: docker.DockerClient, prefix: str) -> list[str]:
    """Remove every container, network, volume and image tag whose name starts with prefix."""
    removed = []
    for container in client.containers.list(all=True, filters={"name": prefix}):
        if container.name.startswith(prefix):
            container.remove(force=True, v=True)
            removed.append(f"container {container.name}")
    for network in client.networks.list(names=[prefix]):
        if network.name.startswith(prefix):
            network.remove()
            removed.append(f"network {network.name}")
    for volume in client.volumes.list(filters={"name": prefix}):
        if volume.name.startswith(prefix):
            volume.remove(force=True)
            removed.append(f"volume {volume.name}")
    for image in client.images.list():
        for tag in image.tags:
            if tag.startswith(prefix):
                # noprune keeps the layers below: the next session's build reuses them.
                client.images.remove(tag, noprune=True)
                removed.append(f"image {tag}")
    return removed


def read_file(container, path: str) -> tuple[bytes, int, int]:
    """A file in a container, as `docker cp` reads it: (content, mode bits, owner uid)."""
    stream, _ = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.getmembers()[0]
        return tar.extractfile(member).read(), member.mode & 0o7777, member.uid


def psql_in(container, user: str, dbname: str, sql: str) -> str:
    """SQL run by psql inside a database container; its unaligned output."""
    command = ["psql", "-v", "ON_ERROR_STOP=1", "-At", "-U", user, "-d", dbname, "-c", sql]
    result = container.exec_run(command, user="postgres")
    output = result.output.decode("utf-8", errors="replace")
    if result.exit_code != 0:
        raise RuntimeError(f"psql failed ({result.exit_code}): {output}")
    return output.strip()


def wait_until(
    predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.2
) -> object:
    """The first truthy value of predicate(), or a test failure saying what did not happen."""
    try:
        return wait_for(predicate, timeout, what, interval)
    except WaitTimeout as error:
        pytest.fail(str(error), pytrace=False)
