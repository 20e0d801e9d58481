"""Isolated instances of the stack on a real Docker engine, for the e2e tests.

A `LiveStack` is the real program (infra/) realized by the harness with its own
names: every container, the network, the volume and the app's image tag start
with a unique prefix, and the app is published on a free port of 127.0.0.1, so
a test can never touch a user's `dados_postgres` or `app-flask`. The
`StackFactory` makes them and, at the end, removes everything carrying its
session prefix, whatever state the tests left.

tests/e2e/fixtures.py turns these into fixtures; see tests/e2e/README.md.
"""

import functools
import io
import os
import re
import secrets
import subprocess
import tarfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import docker
import docker.errors
import pytest
import requests

from infra.config import (
    SECRETS,
    StackConfig,
    backup_volume_name,
    config_key,
    settable_fields,
    validate,
)
from infra.host import public_url
from testing.postgres_server import free_port
from tests.e2e.harness import CONTAINER, IMAGE, PROJECT_ROOT, REMOTE_IMAGE, DockerHarness
from tests.support.program import ProgramRun, run_program
from tests.support.waiting import WaitTimeout, wait_for

STANDINS_HINT = "build the local stand-ins: bash .ci/images/build-standins.sh"
DOCKERD_HINT = "start one: bash .ci/start-dockerd.sh"

ROLES = {
    "db": "db_container_name",
    "migrator": "migrator_container_name",
    "app": "app_container_name",
    "reader": "reader_container_name",
}
# Everything the stack names in Docker: the prefix makes these unique.
ISOLATED_FIELDS = (
    "network_name",
    "volume_name",
    "db_container_name",
    "migrator_container_name",
    "app_container_name",
    "reader_container_name",
    "app_image_name",
)
# The reader reads every second so that its log has something to show at once.
FAST_SETTINGS = {"readerIntervalSeconds": 1}


# -- the engine ------------------------------------------------------------------


def unavailable(reason: str) -> None:
    """Skip, or fail under CI=true, where a missing engine is a broken pipeline."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} [CI=true: the e2e tests must run]", pytrace=False)
    pytest.skip(reason)


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
def _declared() -> ProgramRun:
    """The program's declarations with the defaults, read once per session."""
    return run_program(dict.fromkeys(SECRETS, "unused"))


def pulled_images() -> list[str]:
    """The images the stack runs as they are, from a registry: what its RemoteImages name."""
    return [image.inputs["name"] for image in _declared().of_type(REMOTE_IMAGE)]


def base_images() -> list[str]:
    """The images the stack needs from a registry: what its RemoteImages name and its
    built images start FROM (read from the program's own declarations)."""
    names = pulled_images()
    declared = _declared()
    for image in declared.of_type(IMAGE):
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


# -- config ------------------------------------------------------------------------


class EffectiveConfig(Mapping):
    """The stack config the program sees: every key (camelCase, as `pulumi config set`
    takes it) with its value, defaults included. Attributes give the same values by
    StackConfig's field names: `config["volumeName"] == config.volume_name`.
    Setting a key (`config["retainVolume"] = False`) is `pulumi config set` on
    the stack it came from: it takes effect at the next up."""

    def __init__(self, values: Mapping[str, object], on_set: Callable[..., None] | None = None):
        self._on_set = on_set
        self._load(values)

    def _load(self, values: Mapping[str, object]) -> None:
        fields = {config_key(f.name): f for f in settable_fields()}
        settings = {}
        for key, value in values.items():
            if key in SECRETS:
                continue
            if key not in fields:
                raise KeyError(f"{key} is not a config key of the stack (see infra/config.py)")
            if type(value) is not fields[key].type:
                raise TypeError(f"config {key}={value!r} must be a {fields[key].type.__name__}")
            settings[fields[key].name] = value
        self._config = StackConfig(
            **{field: values[key] for key, field in SECRETS.items()}, **settings
        )
        validate(self._config)
        self._items = {
            **{key: values[key] for key in SECRETS},
            **{key: getattr(self._config, f.name) for key, f in fields.items()},
        }

    def __getitem__(self, key: str) -> object:
        return self._items[key]

    def __setitem__(self, key: str, value: object) -> None:
        if self._on_set is None:
            raise TypeError("this config belongs to no stack")
        self._on_set(**{key: value})
        self._load({**self._items, key: value})

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __getattr__(self, name: str) -> object:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._config, name)

    def __repr__(self) -> str:
        shown = {k: ("[secret]" if k in SECRETS else v) for k, v in self._items.items()}
        return f"EffectiveConfig({shown})"


def isolated_config(prefix: str) -> dict[str, object]:
    defaults = {f.name: f.default for f in settable_fields()}
    return {
        **{key: secrets.token_urlsafe(24) for key in SECRETS},
        **{config_key(name): prefix + defaults[name] for name in ISOLATED_FIELDS},
        "appHostPort": free_port(),
        **FAST_SETTINGS,
    }


# -- one stack ---------------------------------------------------------------------


class LiveStack:
    """One isolated instance of the stack; see tests/e2e/README.md for the API."""

    def __init__(self, client: docker.DockerClient, prefix: str, **overrides: object):
        self.docker = client
        self.prefix = prefix
        self.harness = DockerHarness(client)
        self._values = isolated_config(prefix)
        self.run: ProgramRun | None = None
        self.set_config(**overrides)
        self._made_with = dict(self._values)

    # -- the stack's lifecycle --

    @property
    def config(self) -> EffectiveConfig:
        return EffectiveConfig(self._values, on_set=self.set_config)

    def set_config(self, **values: object) -> None:
        """`pulumi config set KEY VALUE` for each: takes effect at the next up."""
        EffectiveConfig({**self._values, **values})  # refuses unknown keys and bad values
        self._values.update(values)

    def up(
        self, *, refresh: bool | None = None, replace: Iterable[str] = (), **config
    ) -> ProgramRun:
        """`make up` (`pulumi up`, which refreshes first as Pulumi.yaml says), after setting
        any config given; returns the run (outputs, resources). `harness.steps` says
        what it did to each resource."""
        self.set_config(**config)
        self.run = self.harness.up(dict(self.config), refresh=refresh, replace=replace)
        return self.run

    def destroy(self) -> None:
        """`make down` (`pulumi destroy --refresh=false`): the volume stays unless
        retainVolume is false."""
        self.harness.destroy(refresh=False)
        self.run = None

    def replace(self, *roles: str) -> ProgramRun:
        """`pulumi up --replace` of the containers of these roles (see ROLES)."""
        names = []
        for role in roles:
            container = self.container_name(role)
            matches = [
                r.name
                for r in self.harness.resources
                if r.type == CONTAINER and r.inputs.get("name") == container
            ]
            if not matches:
                raise LookupError(f"no {role} container in the stack's state: is it up?")
            names += matches
        return self.up(replace=names)

    def restore(self) -> ProgramRun:
        """Back to the config it was made with, and up: whatever a test stopped, removed or
        destroyed is made again. Rows written by tests stay (unless the volume went)."""
        self._values = dict(self._made_with)
        return self.up()

    def purge(self) -> None:
        """Remove everything this stack made, the retained volume and the image tag included."""
        errors = self.harness.purge()
        try:
            sweep(self.docker, self.prefix)
        except docker.errors.APIError as error:
            errors.append(str(error))
        self.run = None
        if errors:
            raise RuntimeError(f"cleanup of {self.prefix}* was incomplete: {errors}")

    @property
    def steps(self) -> dict[str, str]:
        """What the last up or destroy did to each resource, by its name: create, same,
        update, replace, delete, retain..."""
        return self.harness.steps

    def build_from(self, project_root: Path) -> None:
        """Build the app from another copy of the project (a changed app/, say) in the
        next ups, as `make up` run in that checkout would."""
        self.harness.build_from(project_root)

    @property
    def is_up(self) -> bool:
        return any(r.type == CONTAINER for r in self.harness.resources)

    @property
    def url(self) -> str:
        """The app's base URL on the Docker host, e.g. http://127.0.0.1:45123."""
        return public_url(self.config.app_bind_address, self.config.app_host_port)

    @property
    def outputs(self) -> dict:
        """The stack outputs of the last up."""
        if self.run is None:
            raise LookupError("the stack is not up")
        return self.run.outputs

    @property
    def image(self) -> str:
        """The ID of the app image the last up built."""
        built = [r for r in self.harness.resources if r.type == IMAGE]
        if not built:
            raise LookupError("the stack is not up")
        return built[0].outputs["repoDigest"]

    # -- Docker objects --

    def container_name(self, role: str) -> str:
        if role not in ROLES:
            raise KeyError(f"role must be one of {sorted(ROLES)}, not {role!r}")
        return getattr(self.config, ROLES[role])

    def container(self, role: str):
        """The docker Container of a role, fresh; docker.errors.NotFound when it does not exist."""
        return self.docker.containers.get(self.container_name(role))

    def logs(self, role: str, **kwargs) -> str:
        """The container's log (stdout and stderr), as text; kwargs go to Container.logs."""
        return self.container(role).logs(**kwargs).decode("utf-8", errors="replace")

    def health(self, role: str) -> str | None:
        state = self.container(role).attrs["State"]
        return (state.get("Health") or {}).get("Status")

    def wait_healthy(self, role: str, timeout: float = 60):
        wait_until(lambda: self.health(role) == "healthy", timeout, f"{role} to be healthy")
        return self.container(role)

    def volume(self, *, backups: bool = False):
        """The stack's volume (or its backups' volume), or None when Docker has none of
        that name."""
        name = self.config.volume_name
        try:
            return self.docker.volumes.get(backup_volume_name(name) if backups else name)
        except docker.errors.NotFound:
            return None

    def network(self):
        """The stack's network, or None."""
        found = self.docker.networks.list(names=[self.config.network_name])
        return next((n for n in found if n.name == self.config.network_name), None)

    def leftovers(self) -> list[str]:
        """What Docker holds under this stack's prefix (containers, networks, volumes)."""
        names = [
            c.name for c in self.docker.containers.list(all=True, filters={"name": self.prefix})
        ]
        names += [n.name for n in self.docker.networks.list(names=[self.prefix])]
        names += [v.name for v in self.docker.volumes.list(filters={"name": self.prefix})]
        return sorted(n for n in names if n.startswith(self.prefix))

    def script_env(self, **extra: str) -> dict[str, str]:
        """The environment in which scripts/ (make status, psql, backup, the verdict...)
        act on this stack alone: every name given, so that they never ask Pulumi for a
        stack's outputs, and no service names (one host)."""
        return {
            **os.environ,
            "STACK": f"{self.prefix}not-a-pulumi-stack",
            **{f"{role.upper()}_CONTAINER": self.container_name(role) for role in ROLES},
            **{f"{role.upper()}_SERVICE": "" for role in ROLES},
            "VOLUME_NAME": self.config.volume_name,
            "BACKUP_VOLUME_NAME": backup_volume_name(self.config.volume_name),
            **extra,
        }

    def run_script(self, name: str, *args: str, **env: str) -> subprocess.CompletedProcess:
        """scripts/<name> on this stack, its output as text."""
        return subprocess.run(
            [str(PROJECT_ROOT / "scripts" / name), *args],
            cwd=PROJECT_ROOT,
            env=self.script_env(**env),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def psql(self, sql: str) -> str:
        """Run SQL in the database container with psql; returns its unaligned output."""
        return psql_in(self.container("db"), self.config.db_user, self.config.db_name, sql)

    # -- HTTP --

    def request(self, method: str, path: str, timeout: float = 10, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, timeout=timeout, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: object = None, **kwargs) -> requests.Response:
        return self.request("POST", path, json=json, **kwargs)

    def wait_for(self, path: str = "/status", status: int = 200, timeout: float = 60):
        """The first response to GET path with this status; a 500 on the way is a failure."""
        seen = []

        def attempt():
            try:
                response = self.get(path, timeout=3)
            except requests.RequestException as error:
                seen.append(type(error).__name__)
                return None
            seen.append(response.status_code)
            assert response.status_code != 500, f"GET {path} answered 500: {response.text}"
            return response if response.status_code == status else None

        try:
            return wait_until(attempt, timeout, f"GET {path} to answer {status}")
        except pytest.fail.Exception:
            pytest.fail(f"GET {path} never answered {status}; answers: {seen[-10:]}", pytrace=False)


class StackFactory:
    """Makes LiveStacks under one session prefix and removes all of them at the end."""

    def __init__(self, client: docker.DockerClient):
        self.client = client
        self.prefix = f"e2e-{secrets.token_hex(3)}-"
        self._made = 0
        self._stacks: list[LiveStack] = []

    def make(self, *, up: bool = True, **config: object) -> LiveStack:
        self._made += 1
        stack = LiveStack(self.client, f"{self.prefix}s{self._made}-", **config)
        self._stacks.append(stack)
        if up:
            try:
                stack.up()
            except BaseException:
                stack.purge()
                raise
        return stack

    def close(self) -> None:
        errors = []
        for stack in reversed(self._stacks):
            try:
                stack.purge()
            except RuntimeError as error:
                errors.append(str(error))
        # The safety net: anything under the session prefix, whoever made it.
        sweep(self.client, self.prefix)
        if errors:
            raise RuntimeError("; ".join(errors))
