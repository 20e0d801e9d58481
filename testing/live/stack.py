"""One isolated instance of the stack (`LiveStack`) and the factory that makes them
(`StackFactory`) and, at the end, removes everything under its session prefix.

A LiveStack's names all start with a unique prefix (containers, network, volume,
the app's image tag) and its app gets a free port of 127.0.0.1, so a test never
touches a user's `dados_postgres` or `app-flask`. What realizes it is the
session's backend (selection.py): the real Pulumi engine (pulumi_backend.py) or
the harness (testing/harness), behind the same API.
"""

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import docker
import docker.errors
import pytest
import requests

from infra.host import public_url
from infra.settings import backup_volume_name
from testing.harness import CONTAINER, IMAGE, PROJECT_ROOT, DockerHarness
from testing.live.config import ROLES, EffectiveConfig, isolated_config
from testing.live.docker_side import psql_in, sweep, wait_until
from testing.live.selection import Engine, chosen
from testing.program import ProgramRun

# -- one stack ---------------------------------------------------------------------


def backend_for(engine: Engine, client: docker.DockerClient, prefix: str, docker_host=None):
    """What realizes a stack on this engine: a PulumiBackend (its provider on
    `docker_host` when given, else on the tests' engine) or a DockerHarness on client."""
    if not engine.real:
        return DockerHarness(client)
    # Imported here: the harness path never loads the real backend.
    from testing.live.pulumi_backend import PulumiBackend

    return PulumiBackend(prefix, docker_host=docker_host)


class LiveStack:
    """One isolated instance of the stack; see tests/e2e/README.md for the API."""

    def __init__(
        self,
        client: docker.DockerClient,
        prefix: str,
        *,
        engine: Engine | None = None,
        **overrides: object,
    ):
        self.docker = client
        self.prefix = prefix
        self.engine = engine or chosen()
        self.backend = backend_for(self.engine, client, prefix)
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
        what it did to each resource. A failed up raises StackError on either backend."""
        self.set_config(**config)
        self.run = self.backend.up(dict(self.config), refresh=refresh, replace=replace)
        return self.run

    def destroy(self) -> None:
        """`make down` (`pulumi destroy --refresh=false`): the volume stays unless
        retainVolume is false."""
        self.backend.destroy(refresh=False)
        self.run = None

    def replace(self, *roles: str) -> ProgramRun:
        """`pulumi up --replace` of the containers of these roles (see ROLES)."""
        names = []
        for role in roles:
            container = self.container_name(role)
            matches = [
                r.name
                for r in self.backend.resources
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
        errors = self.backend.purge()
        try:
            sweep(self.docker, self.prefix)
        except docker.errors.APIError as error:
            errors.append(str(error))
        self.run = None
        if errors:
            raise RuntimeError(f"cleanup of {self.prefix}* was incomplete: {errors}")

    @property
    def harness(self) -> DockerHarness:
        """The harness realizing this stack (its `.log`); only on the harness backend."""
        if not isinstance(self.backend, DockerHarness):
            raise AttributeError(f"{self.prefix}: runs on the real Pulumi engine, not the harness")
        return self.backend

    @property
    def steps(self) -> dict[str, str]:
        """What the last up or destroy did to each resource, by its name: create, same,
        update, replace, delete, retain..."""
        return self.backend.steps

    def build_from(self, project_root: Path) -> None:
        """Build the app from another copy of the project (a changed app/, say) in the
        next ups, as `make up` run in that checkout would."""
        self.backend.build_from(project_root)

    @property
    def is_up(self) -> bool:
        return any(r.type == CONTAINER for r in self.backend.resources)

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
        built = [r for r in self.backend.resources if r.type == IMAGE]
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

    def __init__(self, client: docker.DockerClient, engine: Engine | None = None):
        self.client = client
        self.engine = engine or chosen()
        self.prefix = f"e2e-{secrets.token_hex(3)}-"
        self._made = 0
        self._stacks: list[LiveStack] = []

    def make(self, *, up: bool = True, engine: Engine | None = None, **config: object) -> LiveStack:
        """A new stack on the factory's backend (or `engine`), up unless told otherwise."""
        self._made += 1
        prefix = f"{self.prefix}s{self._made}-"
        stack = LiveStack(self.client, prefix, engine=engine or self.engine, **config)
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
        # The safety net: anything under the session prefix, whoever made it, and the
        # real engine's work folders (their state backends) if any is left.
        sweep(self.client, self.prefix)
        if self.engine.real:
            from testing.live.pulumi_backend import work_dirs

            for folder in work_dirs(self.prefix):
                shutil.rmtree(folder, ignore_errors=True)
        if errors:
            raise RuntimeError("; ".join(errors))
