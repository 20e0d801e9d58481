"""Realize what the Pulumi program declares on a real Docker engine.

The Pulumi CLI and its docker provider cannot be installed on this project's
machines, but Pulumi's mock runtime and a Docker engine can run. `DockerHarness`
runs the real program under the mock runtime (tests/support/program.py) and,
for every resource it declares, does through the Docker SDK for Python what
pulumi-docker 5 (terraform-provider-docker underneath) would do, returning the
real outputs so that later resources see real IDs. Like Pulumi it keeps a
state, and `destroy()` walks it in reverse.

What it keeps from Pulumi:
- `up()` refreshes first (as `pulumi up --refresh`): a resource missing from
  Docker, or a container that stopped although `mustRun`, is made again; an
  unchanged declaration of an existing resource changes nothing.
- A changed input replaces a container, deleting it first (its name is fixed,
  so the new one could not be created next to it). Replacing a network or a
  volume is refused: the harness cannot yet move containers between them.
- `ignore_changes` keeps the old value of the listed inputs; `protect` makes
  destroy (and a replacement) fail before anything is deleted;
  `retain_on_delete` drops the resource from the state and leaves it in Docker.
- `destroy()` deletes in reverse creation order; a RemoteImage with
  keepLocally stays, and a built Image leaves its tags (pulumi-docker's Image
  has no delete); a random value is forgotten, so the next up draws a new one.
- Containers are deleted as the provider does it: stopped gracefully only when
  `destroyGraceSeconds` is set, otherwise force-removed (SIGKILL).

It is strict: a resource type, an input or a resource option it does not
implement is an error naming it, so a declaration it cannot honor never passes
in silence.
"""

import base64
import contextlib
import dataclasses
import io
import os
import random
import re
import secrets
import string
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import docker
import docker.errors
import pulumi
from docker.utils import parse_repository_tag
from pulumi.runtime import rpc

from infra.stack import REPO_ROOT as PROJECT_ROOT
from tests.support.program import Declared, ProgramRun, run_program

NETWORK = "docker:index/network:Network"
VOLUME = "docker:index/volume:Volume"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
IMAGE = "docker:index/image:Image"
CONTAINER = "docker:index/container:Container"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_STRING = "random:index/randomString:RandomString"
RANDOM_ID = "random:index/randomId:RandomId"
RANDOM_INTEGER = "random:index/randomInteger:RandomInteger"
RANDOM_UUID = "random:index/randomUuid:RandomUuid"

# What the provider publishes a port on when `ip` is not set.
PROVIDER_DEFAULT_PORT_IP = "0.0.0.0"

# Resource options that change nothing about how a resource is realized once
# the SDK has applied them (aliases and versions matter to the engine's
# bookkeeping, transformations already ran). Any other option that is set must
# be one the harness honors, or the run fails.
_INERT_OPTIONS = {
    "parent",
    "depends_on",  # the mock runtime already calls provision in dependency order
    "version",
    "plugin_download_url",
    "aliases",
    "additional_secret_outputs",
    "transformations",
    "transforms",
    "hide_diffs",
    "env_var_mappings",
}
_HONORED_OPTIONS = {
    "protect",
    "retain_on_delete",
    "ignore_changes",
    # Every change replaces here, and containers are deleted before their
    # replacement anyway: both options are satisfied by construction.
    "delete_before_replace",
    "replace_on_changes",
}

# The mock runtime keeps Pulumi's wire encoding of secrets: {sig: secret-sig, value: ...}.
_SECRET = (rpc._special_sig_key, rpc._special_secret_sig)


class HarnessError(Exception):
    """The harness cannot do what the program asks, or Docker refused it."""


class UnsupportedDeclaration(HarnessError):
    """A resource type, input or option the harness does not implement."""


class ProtectedResourceError(HarnessError):
    """Pulumi refuses to delete a protected resource; so does the harness."""


def unwrap_secrets(value):
    if isinstance(value, dict):
        if value.get(_SECRET[0]) == _SECRET[1]:
            return unwrap_secrets(value.get("value"))
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(item) for item in value]
    return value


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_NS_PER_UNIT = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def duration_ns(text: str) -> int:
    """A Go duration ("5s", "1m30s", "250ms") in nanoseconds, as the provider parses it."""
    if text == "0":
        return 0
    parts = list(_DURATION_PART.finditer(text))
    if not parts or "".join(p.group(0) for p in parts) != text:
        raise HarnessError(f"{text!r} is not a duration such as 5s, 250ms or 1m30s")
    return round(sum(float(p.group(1)) * _NS_PER_UNIT[p.group(2)] for p in parts))


class Inputs:
    """A resource's inputs (or one nested block of them), each read at most once.

    `done()` fails on every input that is set but was never read: that is how an
    input the harness does not implement becomes an error instead of being
    dropped. Unset means None or an empty list/map; False and 0 are values.
    """

    def __init__(self, values: dict | None, where: str):
        self._values = values or {}
        self._where = where
        self._read: set[str] = set()

    def get(self, key: str, default=None):
        self._read.add(key)
        value = self._values.get(key)
        return default if value is None else value

    def require(self, key: str):
        value = self.get(key)
        if value in (None, ""):
            raise HarnessError(f"{self._where}: input {key} is required")
        return value

    def int(self, key: str, default: int | None = None) -> int | None:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or float(value) != int(value):
            raise HarnessError(f"{self._where}: input {key}={value!r} must be a whole number")
        return int(value)

    def bool(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise HarnessError(f"{self._where}: input {key}={value!r} must be true or false")
        return value

    def block(self, key: str) -> "Inputs | None":
        value = self.get(key)
        return Inputs(value, f"{self._where}.{key}") if value else None

    def blocks(self, key: str) -> list["Inputs"]:
        return [Inputs(v, f"{self._where}.{key}[{i}]") for i, v in enumerate(self.get(key, []))]

    def done(self) -> None:
        unknown = sorted(
            key
            for key, value in self._values.items()
            if key not in self._read and value not in (None, [], {})
        )
        if unknown:
            raise UnsupportedDeclaration(
                f"{self._where}: the e2e harness does not implement input(s) "
                f"{', '.join(unknown)}; implement them in tests/e2e/harness.py "
                "rather than letting them pass unhonored"
            )


@dataclasses.dataclass
class Realized:
    """One resource in the harness's state: what was declared, what exists, how to treat it."""

    type: str
    name: str
    inputs: dict
    id: str
    outputs: dict
    protect: bool = False
    retain_on_delete: bool = False


@dataclasses.dataclass
class _Plan:
    """A validated declaration, ready to be created (`spec` is type-specific)."""

    type: str
    name: str
    inputs: dict
    spec: object


class DockerHarness:
    """A state of realized resources, and the `provision` callback that fills it.

    `up(config)` runs the program and reconciles; `destroy()` deletes what
    Pulumi would delete; `purge()` deletes everything the state still holds,
    protected and retained resources included (test cleanup, not Pulumi).
    `log` lists what was done, in order, for assertions and diagnostics.
    """

    # One program run at a time per process: the mock runtime is global state.
    _run_lock = threading.Lock()

    # Pulumi runs a program in its project directory: relative paths in inputs start there.
    def __init__(self, client: docker.DockerClient, project_root: Path = PROJECT_ROOT):
        self.client = client
        self.project_root = project_root
        self.log: list[str] = []
        self._state: dict[tuple[str, str], Realized] = {}  # insertion = creation order
        self._lock = threading.Condition()
        self._in_flight = 0
        self._aborted: BaseException | None = None
        self._declared: set[tuple[str, str]] = set()
        self._replace: set[str] = set()
        self._refresh = True
        self._handlers = {
            NETWORK: _NetworkHandler(self),
            VOLUME: _VolumeHandler(self),
            REMOTE_IMAGE: _RemoteImageHandler(self),
            IMAGE: _ImageHandler(self),
            CONTAINER: _ContainerHandler(self),
            **{t: _RandomHandler(self, t) for t in _RandomHandler.TYPES},
        }

    # -- state ---------------------------------------------------------------

    @property
    def resources(self) -> list[Realized]:
        """The state, in creation order."""
        with self._lock:
            return list(self._state.values())

    def find(self, type_token: str, name: str) -> Realized | None:
        with self._lock:
            return self._state.get((type_token, name))

    def _record(self, realized: Realized) -> None:
        with self._lock:
            self._state[(realized.type, realized.name)] = realized

    def _forget(self, realized: Realized) -> None:
        with self._lock:
            self._state.pop((realized.type, realized.name), None)

    def _note(self, message: str) -> None:
        with self._lock:
            self.log.append(message)

    # -- the Pulumi operations ------------------------------------------------

    def up(
        self,
        config: dict[str, object],
        *,
        refresh: bool = True,
        replace: Iterable[str] = (),
        stack_name: str = "e2e",
    ) -> ProgramRun:
        """`pulumi up [--refresh] [--replace NAME...]`: returns the program run with real outputs.

        A failed up leaves in the state whatever it created, so that destroy or
        purge can remove it; it waits for provisions still running in other
        threads (the mock runtime registers independent resources in parallel).
        """
        with self._run_lock:
            self._declared = set()
            self._replace = set(replace)
            self._refresh = refresh
            self._aborted = None
            try:
                run = run_program(config, provision=self.provision, stack_name=stack_name)
            except BaseException as error:
                self._abort(error)
                raise
            unknown = self._replace - {name for _, name in self._declared}
            if unknown:
                raise HarnessError(f"--replace names no declared resource: {sorted(unknown)}")
            # Resources the program no longer declares go, as in Pulumi.
            gone = [r for r in self.resources if (r.type, r.name) not in self._declared]
            self._delete_all(gone, honor_options=True)
            return run

    def destroy(self) -> None:
        """`pulumi destroy`: fails up front if anything is protected."""
        self._delete_all(self.resources, honor_options=True)

    def purge(self) -> list[str]:
        """Delete everything in the state whatever its options; returns the errors met."""
        errors = []
        for realized in reversed(self.resources):
            try:
                self._handlers[realized.type].delete(realized)
            except Exception as error:  # keep going: this is the last line of cleanup
                errors.append(f"{realized.type} {realized.name}: {error}")
            self._forget(realized)
        return errors

    def _delete_all(self, realized: list[Realized], *, honor_options: bool) -> None:
        protected = [r.name for r in realized if r.protect]
        if honor_options and protected:
            raise ProtectedResourceError(
                f"refusing to delete protected resource(s) {', '.join(protected)}; "
                "nothing was deleted (unprotect them first, as `pulumi state unprotect` does)"
            )
        for resource in reversed(realized):
            self._delete_one(resource, honor_options)

    def _delete_one(self, realized: Realized, honor_options: bool = True) -> None:
        if honor_options and realized.retain_on_delete:
            self._note(f"retain {realized.type} {realized.name}")
        else:
            self._handlers[realized.type].delete(realized)
            self._note(f"delete {realized.type} {realized.name}")
        self._forget(realized)

    def _abort(self, error: BaseException) -> None:
        with self._lock:
            self._aborted = error
            # Bounded: a provision waits at most for a container's health, itself bounded.
            self._lock.wait_for(lambda: self._in_flight == 0, timeout=600)

    # -- the mock runtime's callback -------------------------------------------

    def provision(self, declared: Declared) -> tuple[str, dict]:
        with self._lock:
            if self._aborted is not None:
                raise HarnessError(f"up already failed: {self._aborted}")
            self._in_flight += 1
            self._declared.add((declared.type, declared.name))
        try:
            return self._provision(declared)
        finally:
            with self._lock:
                self._in_flight -= 1
                self._lock.notify_all()

    def _provision(self, declared: Declared) -> tuple[str, dict]:
        handler = self._handlers.get(declared.type)
        if handler is None:
            raise UnsupportedDeclaration(
                f"resource {declared.name!r} of type {declared.type}: the e2e harness does not "
                "know how to realize this type; add a handler to tests/e2e/harness.py"
            )
        options = _check_options(declared)
        inputs = unwrap_secrets(declared.inputs)
        old = self.find(declared.type, declared.name)
        if old is not None:
            for key in options.ignore_changes or []:
                if key in old.inputs:
                    inputs[key] = old.inputs[key]
                else:
                    inputs.pop(key, None)
        spec = handler.plan(Inputs(inputs, _where(declared)))
        plan = _Plan(declared.type, declared.name, inputs, spec)

        protect = bool(options.protect)
        retain = bool(options.retain_on_delete)
        if old is not None:
            replace = declared.name in self._replace or old.inputs != inputs
            missing = self._refresh and not handler.exists(old)
            if not replace and not missing and not handler.always_read:
                # Nothing to do but record the options, as Pulumi does on an unchanged resource.
                old.protect, old.retain_on_delete = protect, retain
                self._note(f"same {declared.type} {declared.name}")
                return old.id, old.outputs
            if replace and not missing:
                if not handler.replaceable:
                    raise UnsupportedDeclaration(
                        f"{_where(declared)}: its inputs changed, which replaces it, and the harness "
                        "cannot replace this type while it is in use; destroy the stack first"
                    )
                if old.protect:
                    raise ProtectedResourceError(
                        f"{_where(declared)} is protected and its replacement would delete it"
                    )
                handler.delete_for_replace(old)
                self._note(f"replace {declared.type} {declared.name}")
            elif missing:
                handler.delete_stale(old)
            self._forget(old)

        def record(resource_id: str, outputs: dict) -> None:
            self._record(
                Realized(
                    declared.type, declared.name, inputs, resource_id, outputs, protect, retain
                )
            )

        resource_id, outputs = handler.create(plan, record)
        record(resource_id, outputs)
        self._note(f"create {declared.type} {declared.name}")
        return resource_id, outputs


def _where(declared: Declared) -> str:
    return f"{declared.type.rsplit(':', 1)[-1]} {declared.name!r}"


def _check_options(declared: Declared) -> pulumi.ResourceOptions:
    options = declared.options
    for key, value in vars(options).items():
        if key in _INERT_OPTIONS or key in _HONORED_OPTIONS:
            continue
        if key == "hooks" and value is not None:
            # The SDK fills in an empty binding; only a bound hook is something to run.
            value = {name: hook for name, hook in vars(value).items() if hook} or None
        if value not in (None, [], {}, False):
            raise UnsupportedDeclaration(
                f"{_where(declared)}: the e2e harness does not implement the resource option "
                f"{key}={value!r}"
            )
    return options


# -- handlers ------------------------------------------------------------------


class _Handler:
    # Read again on every up (images: a new build or pull may give a new ID).
    always_read = False
    # Whether a changed declaration may delete-then-create it while others use it.
    replaceable = False

    def __init__(self, harness: DockerHarness):
        self.harness = harness
        self.client = harness.client

    def plan(self, inputs: Inputs) -> object:
        raise NotImplementedError

    def create(self, plan: _Plan, record: Callable[[str, dict], None]) -> tuple[str, dict]:
        raise NotImplementedError

    def exists(self, realized: Realized) -> bool:
        raise NotImplementedError

    def delete(self, realized: Realized) -> None:
        raise NotImplementedError

    def delete_for_replace(self, realized: Realized) -> None:
        self.delete(realized)

    def delete_stale(self, realized: Realized) -> None:
        """What refresh found gone: usually nothing is left to delete."""


def _labels(inputs: Inputs, key: str = "labels") -> dict[str, str]:
    labels = {}
    for block in inputs.blocks(key):
        labels[block.require("label")] = block.get("value", "")
        block.done()
    return labels


class _NetworkHandler(_Handler):
    def plan(self, inputs: Inputs) -> dict:
        spec = {
            "name": inputs.require("name"),
            "driver": inputs.get("driver", "bridge"),
            "internal": inputs.bool("internal", False),
            "attachable": inputs.bool("attachable", False),
            "enable_ipv6": inputs.bool("ipv6", False),
            "options": inputs.get("options"),
            "labels": _labels(inputs),
        }
        inputs.done()
        return spec

    def create(self, plan, record):
        spec = plan.spec
        # The provider creates networks with CheckDuplicate: a name already taken is an error.
        if any(n.name == spec["name"] for n in self.client.networks.list(names=[spec["name"]])):
            raise HarnessError(f"network {spec['name']!r} already exists in Docker")
        network = self.client.networks.create(check_duplicate=True, **spec)
        network.reload()
        outputs = {
            **plan.inputs,
            "name": network.name,
            "driver": network.attrs["Driver"],
            "scope": network.attrs.get("Scope", "local"),
        }
        return network.id, outputs

    def exists(self, realized):
        return _exists(self.client.networks.get, realized.id)

    def delete(self, realized):
        with contextlib.suppress(docker.errors.NotFound):
            self.client.networks.get(realized.id).remove()


class _VolumeHandler(_Handler):
    def plan(self, inputs: Inputs) -> dict:
        spec = {
            "name": inputs.get("name"),
            "driver": inputs.get("driver", "local"),
            "driver_opts": inputs.get("driverOpts"),
            "labels": _labels(inputs),
        }
        inputs.done()
        return spec

    def create(self, plan, record):
        # Docker hands back the existing volume of that name: a retained volume is attached again.
        volume = self.client.volumes.create(**plan.spec)
        outputs = {
            **plan.inputs,
            "name": volume.name,
            "driver": volume.attrs["Driver"],
            "mountpoint": volume.attrs["Mountpoint"],
        }
        return volume.name, outputs

    def exists(self, realized):
        return _exists(self.client.volumes.get, realized.id)

    def delete(self, realized):
        # A volume stays "in use" for a moment after its last container is removed.
        deadline = time.monotonic() + 30
        while True:
            try:
                self.client.volumes.get(realized.id).remove()
                return
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as error:
                if error.status_code != 409 or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


class _RemoteImageHandler(_Handler):
    always_read = True
    replaceable = True

    def plan(self, inputs: Inputs) -> dict:
        spec = {
            "name": inputs.require("name"),
            "keep_locally": inputs.bool("keepLocally", False),
            "force_remove": inputs.bool("forceRemove", False),
            "platform": inputs.get("platform"),
            "pull_triggers": inputs.get("pullTriggers"),
            "triggers": inputs.get("triggers"),
        }
        inputs.done()
        return spec

    def create(self, plan, record):
        name, platform = plan.spec["name"], plan.spec["platform"]
        try:
            image = self.client.images.get(name)
        except docker.errors.ImageNotFound:
            repository, tag = parse_repository_tag(name)
            try:
                image = self.client.images.pull(repository, tag=tag or "latest", platform=platform)
            except docker.errors.APIError as error:
                raise HarnessError(
                    f"image {name} is not in the local engine and cannot be pulled ({error}); "
                    "without a registry, build the stand-ins: bash .ci/images/build-standins.sh"
                ) from None
        outputs = {
            **plan.inputs,
            "imageId": image.id,
            "repoDigest": (image.attrs.get("RepoDigests") or [""])[0],
        }
        return f"{image.id}{name}", outputs

    def exists(self, realized):
        return _exists(self.client.images.get, realized.outputs["imageId"])

    def delete(self, realized):
        if realized.inputs.get("keepLocally"):
            return
        with contextlib.suppress(docker.errors.NotFound):
            self.client.images.remove(
                realized.outputs["imageId"], force=bool(realized.inputs.get("forceRemove"))
            )

    def delete_for_replace(self, realized):
        # A pull only adds an image; the old one may still serve a running container.
        pass


class _ImageHandler(_Handler):
    """pulumi-docker's Image: a build of a local context, kept local (skipPush)."""

    always_read = True
    replaceable = True

    def plan(self, inputs: Inputs) -> dict:
        if not inputs.bool("skipPush", False):
            raise UnsupportedDeclaration(
                "Image: skipPush is false, so Pulumi would push to a registry; "
                "the harness builds locally only and no registry is reachable"
            )
        registry = inputs.block("registry")
        if registry is not None:
            registry.done()
        inputs.bool("buildOnPreview", False)  # no previews here
        build = inputs.block("build")
        if build is None:
            raise HarnessError("Image: input build is required")
        context = self.harness.project_root / build.get("context", ".")
        dockerfile = self.harness.project_root / build.get(
            "dockerfile", str(Path(build.get("context", ".")) / "Dockerfile")
        )
        if not dockerfile.is_file():
            raise HarnessError(f"Image: Dockerfile {dockerfile} does not exist")
        builder = build.get("builderVersion", "BuilderV1")
        if builder != "BuilderV1":
            # The Docker SDK drives the classic builder only.
            raise UnsupportedDeclaration(f"Image: builderVersion {builder} (only BuilderV1)")
        spec = {
            "path": str(context),
            "dockerfile": os.path.relpath(dockerfile, context),
            "tag": inputs.require("imageName"),
            "buildargs": build.get("args"),
            "target": build.get("target"),
            "platform": build.get("platform"),
            "network_mode": build.get("network"),
            "extra_hosts": dict(h.split(":", 1) for h in build.get("addHosts", [])) or None,
            "rm": True,
        }
        build.done()
        inputs.done()
        return spec

    def create(self, plan, record):
        try:
            image, _ = self.client.images.build(**plan.spec)
        except docker.errors.BuildError as error:
            tail = "".join(
                str(line.get("stream", line.get("error", ""))) for line in error.build_log
            )
            raise HarnessError(
                f"docker build of {plan.spec['path']} failed: {error}\n{tail[-3000:]}"
            ) from None
        outputs = {
            **plan.inputs,
            "imageName": plan.spec["tag"],
            "baseImageName": plan.spec["tag"],
            "repoDigest": image.id,
            "context": plan.spec["path"],
            "dockerfile": plan.spec["dockerfile"],
        }
        return plan.spec["tag"], outputs

    def exists(self, realized):
        return _exists(self.client.images.get, realized.outputs["repoDigest"])

    def delete(self, realized):
        pass  # pulumi-docker's Image deletes nothing: the tag stays in the engine


def _exists(getter: Callable, ident: str) -> bool:
    try:
        getter(ident)
        return True
    except docker.errors.NotFound:
        return False


@dataclasses.dataclass
class _ContainerSpec:
    name: str
    config: dict
    extra_networks: list[tuple[str, dict]]
    uploads: bytes | None
    start: bool
    wait: bool
    wait_timeout: int
    must_run: bool
    destroy_grace_seconds: int | None
    remove_volumes: bool


class _ContainerHandler(_Handler):
    replaceable = True

    def plan(self, inputs: Inputs) -> _ContainerSpec:
        api = self.client.api
        name = inputs.require("name")

        ports, bindings = [], {}
        for block in inputs.blocks("ports"):
            internal = block.require("internal") and block.int("internal")
            protocol = block.get("protocol", "tcp")
            ports.append((internal, protocol))
            external = block.int("external")
            ip = block.get("ip", PROVIDER_DEFAULT_PORT_IP)
            binding = (ip, external) if external else (ip,)
            bindings.setdefault(f"{internal}/{protocol}", []).append(binding)
            block.done()

        mounts = []
        for block in inputs.blocks("mounts"):
            mount_type = block.require("type")
            kwargs = {"read_only": block.bool("readOnly", False)}
            if mount_type not in ("volume", "bind", "tmpfs"):
                raise UnsupportedDeclaration(f"Container {name!r}: mount type {mount_type}")
            volume_options = block.block("volumeOptions")
            if volume_options is not None:
                kwargs["no_copy"] = volume_options.bool("noCopy", False)
                kwargs["labels"] = _labels(volume_options) or None
                if volume_options.get("driverName"):
                    kwargs["driver_config"] = docker.types.DriverConfig(
                        volume_options.get("driverName"), volume_options.get("driverOptions")
                    )
                volume_options.done()
            bind_options = block.block("bindOptions")
            if bind_options is not None:
                kwargs["propagation"] = bind_options.get("propagation")
                bind_options.done()
            tmpfs_options = block.block("tmpfsOptions")
            if tmpfs_options is not None:
                kwargs["tmpfs_size"] = tmpfs_options.int("sizeBytes")
                kwargs["tmpfs_mode"] = tmpfs_options.int("mode")
                tmpfs_options.done()
            mounts.append(
                docker.types.Mount(
                    block.require("target"), block.get("source"), type=mount_type, **kwargs
                )
            )
            block.done()

        binds, anonymous, volumes_from = [], [], []
        for block in inputs.blocks("volumes"):
            target = block.get("containerPath")
            source = block.get("hostPath") or block.get("volumeName")
            mode = "ro" if block.bool("readOnly", False) else "rw"
            if block.get("selinuxRelabel"):
                mode += f",{block.get('selinuxRelabel')}"
            if block.get("fromContainer"):
                volumes_from.append(block.get("fromContainer"))
            elif source:
                binds.append(f"{source}:{target}:{mode}")
            else:
                anonymous.append(target)
            block.done()

        networks = []
        for block in inputs.blocks("networksAdvanced"):
            endpoint = {
                "aliases": block.get("aliases") or None,
                "ipv4_address": block.get("ipv4Address"),
                "ipv6_address": block.get("ipv6Address"),
                "link_local_ips": block.get("linkLocalIps") or None,
                "driver_opt": dict(o.split("=", 1) for o in block.get("driverOpts", [])) or None,
                "mac_address": block.get("macAddress"),
            }
            networks.append((block.require("name"), endpoint))
            block.done()
        network_mode = inputs.get("networkMode")
        if networks:
            if network_mode not in (None, "bridge", "default"):
                raise UnsupportedDeclaration(
                    f"Container {name!r}: networkMode {network_mode} with networksAdvanced"
                )
            # Like the provider: on the declared networks only, not on Docker's default bridge.
            network_mode = networks[0][0]

        healthcheck = None
        block = inputs.block("healthcheck")
        if block is not None:
            healthcheck = {
                "Test": block.require("tests"),
                "Interval": duration_ns(block.get("interval", "0s")),
                "Timeout": duration_ns(block.get("timeout", "0s")),
                "Retries": block.int("retries", 0),
                "StartPeriod": duration_ns(block.get("startPeriod", "0s")),
                # Engines before API 1.44 ignore it; the provider sends it all the same.
                "StartInterval": duration_ns(block.get("startInterval", "0s")),
            }
            block.done()

        uploads = self._uploads(name, inputs.blocks("uploads"))

        restart = inputs.get("restart", "no")
        restart_policy = {"Name": restart}
        if restart == "on-failure":
            restart_policy["MaximumRetryCount"] = inputs.int("maxRetryCount", 0)
        elif inputs.int("maxRetryCount"):
            raise HarnessError(f"Container {name!r}: maxRetryCount needs restart=on-failure")

        capabilities = inputs.block("capabilities")
        cap_add = cap_drop = None
        if capabilities is not None:
            cap_add, cap_drop = capabilities.get("adds"), capabilities.get("drops")
            capabilities.done()
        ulimits = []
        for ulimit in inputs.blocks("ulimits"):
            ulimits.append(
                docker.types.Ulimit(
                    name=ulimit.require("name"), soft=ulimit.int("soft"), hard=ulimit.int("hard")
                )
            )
            ulimit.done()
        hosts = {}
        for host in inputs.blocks("hosts"):
            hosts[host.require("host")] = host.require("ip")
            host.done()
        memory = inputs.int("memory")
        memory_swap = inputs.int("memorySwap")
        shm_size = inputs.int("shmSize")

        host_config = api.create_host_config(
            port_bindings=bindings or None,
            publish_all_ports=inputs.bool("publishAllPorts", False),
            mounts=mounts or None,
            binds=binds or None,
            volumes_from=volumes_from or None,
            network_mode=network_mode,
            restart_policy=restart_policy,
            log_config=docker.types.LogConfig(
                type=inputs.get("logDriver", "json-file"), config=inputs.get("logOpts", {})
            ),
            auto_remove=inputs.bool("rm", False),
            init=inputs.get("init"),
            read_only=inputs.get("readOnly"),
            privileged=inputs.bool("privileged", False),
            cap_add=cap_add,
            cap_drop=cap_drop,
            security_opt=inputs.get("securityOpts"),
            sysctls=inputs.get("sysctls"),
            tmpfs=inputs.get("tmpfs"),
            ulimits=ulimits or None,
            dns=inputs.get("dns"),
            dns_opt=inputs.get("dnsOpts"),
            dns_search=inputs.get("dnsSearches"),
            extra_hosts=hosts or None,
            group_add=inputs.get("groupAdds"),
            # The provider takes these in megabytes.
            mem_limit=memory * 1024 * 1024 if memory else None,
            memswap_limit=memory_swap * 1024 * 1024 if memory_swap else None,
            shm_size=shm_size * 1024 * 1024 if shm_size else None,
        )
        networking_config = None
        if networks:
            first, endpoint = networks[0]
            networking_config = api.create_networking_config(
                {first: api.create_endpoint_config(**endpoint)}
            )
        config = api.create_container_config(
            image=inputs.require("image"),
            command=inputs.get("command"),
            entrypoint=inputs.get("entrypoints"),
            environment=inputs.get("envs"),
            user=inputs.get("user"),
            working_dir=inputs.get("workingDir"),
            hostname=inputs.get("hostname"),
            domainname=inputs.get("domainname"),
            labels=_labels(inputs) or None,
            ports=ports or None,
            volumes=anonymous or None,
            stop_signal=inputs.get("stopSignal"),
            stop_timeout=inputs.int("stopTimeout"),
            tty=inputs.bool("tty", False),
            stdin_open=inputs.bool("stdinOpen", False),
            detach=True,
            host_config=host_config,
            networking_config=networking_config,
        )
        if healthcheck is not None:
            config["Healthcheck"] = healthcheck

        spec = _ContainerSpec(
            name=name,
            config=config,
            extra_networks=networks[1:],
            uploads=uploads,
            start=inputs.bool("start", True),
            wait=inputs.bool("wait", False),
            wait_timeout=inputs.int("waitTimeout", 60),
            must_run=inputs.bool("mustRun", True),
            destroy_grace_seconds=inputs.int("destroyGraceSeconds"),
            remove_volumes=inputs.bool("removeVolumes", True),
        )
        inputs.done()
        if spec.wait and not spec.start:
            raise HarnessError(f"Container {name!r}: wait=true needs start=true")
        return spec

    def _uploads(self, name: str, blocks: list[Inputs]) -> bytes | None:
        if not blocks:
            return None
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for block in blocks:
                path = block.require("file")
                if block.get("content") is not None:
                    data = block.get("content").encode("utf-8")
                elif block.get("contentBase64") is not None:
                    data = base64.b64decode(block.get("contentBase64"))
                elif block.get("source") is not None:
                    # The provider reads it on the machine running Pulumi, from its cwd.
                    data = (self.harness.project_root / block.get("source")).read_bytes()
                else:
                    raise HarnessError(
                        f"Container {name!r}: upload {path} has no content, contentBase64 or source"
                    )
                block.get("sourceHash")  # only a trigger for replacement, compared with the inputs
                mode = 0o744 if block.bool("executable", False) else 0o644
                if block.get("permissions"):
                    mode = int(block.get("permissions"), 8)
                info = tarfile.TarInfo(path.lstrip("/"))
                info.size, info.mode, info.mtime = len(data), mode, int(time.time())
                info.uid = _account_id(block.get("owner", "0"), "owner")
                info.gid = _account_id(block.get("group", "0"), "group")
                tar.addfile(info, io.BytesIO(data))
                block.done()
        return buffer.getvalue()

    def create(self, plan, record):
        spec: _ContainerSpec = plan.spec
        api = self.client.api
        container_id = api.create_container_from_config(spec.config, spec.name)["Id"]
        # In the state from here on: a failure below leaves something to destroy.
        outputs = {**plan.inputs, "name": spec.name}
        record(container_id, outputs)
        for network, endpoint in spec.extra_networks:
            api.connect_container_to_network(container_id, network, **endpoint)
        if spec.uploads is not None:
            # Into the created container, before its first process can look for the files.
            api.put_archive(container_id, "/", spec.uploads)
        if spec.start:
            api.start(container_id)
        if spec.wait:
            self._wait_healthy(container_id, spec.name, spec.wait_timeout)
        attrs = api.inspect_container(container_id)
        outputs["networkDatas"] = [
            {
                "networkName": network,
                "ipAddress": data.get("IPAddress", ""),
                "ipPrefixLength": data.get("IPPrefixLen", 0),
                "gateway": data.get("Gateway", ""),
                "macAddress": data.get("MacAddress", ""),
            }
            for network, data in attrs["NetworkSettings"]["Networks"].items()
        ]
        return container_id, outputs

    def _wait_healthy(self, container_id: str, name: str, timeout: int) -> None:
        """Like the provider's wait: until healthy, or give up after waitTimeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.client.api.inspect_container(container_id)["State"]
            health = state.get("Health")
            if health is None:
                raise HarnessError(f"container {name}: wait=true but it has no health check")
            if health["Status"] == "healthy":
                return
            problem = None
            if state["Status"] in ("exited", "dead"):
                problem = f"it {state['Status']} with code {state['ExitCode']}"
            elif health["Status"] == "unhealthy":
                problem = "it is unhealthy"
            elif time.monotonic() > deadline:
                problem = f"it was not healthy after {timeout}s (waitTimeout)"
            if problem:
                checks = "\n".join(
                    f"  exit {c['ExitCode']}: {c['Output'].strip()}" for c in health.get("Log", [])
                )
                logs = self.client.api.logs(container_id, tail=60).decode(errors="replace")
                raise HarnessError(
                    f"container {name}: {problem} (restarts: {state.get('RestartCount', 0)})\n"
                    f"last health checks:\n{checks}\nlast log lines:\n{logs}"
                )
            time.sleep(0.2)

    def exists(self, realized):
        try:
            state = self.client.api.inspect_container(realized.id)["State"]
        except docker.errors.NotFound:
            return False
        # The provider treats a stopped container that must run as one to make again.
        return state["Running"] or not realized.inputs.get("mustRun", True)

    def delete_stale(self, realized):
        # A stopped container still holds its name, which the new one needs.
        self.delete(realized)

    def delete(self, realized):
        api = self.client.api
        grace = realized.inputs.get("destroyGraceSeconds")
        try:
            if grace:
                api.stop(realized.id, timeout=int(grace))
            api.remove_container(
                realized.id, v=realized.inputs.get("removeVolumes", True), force=True
            )
        except docker.errors.NotFound:
            return
        deadline = time.monotonic() + 30
        while _exists(api.inspect_container, realized.id):
            if time.monotonic() > deadline:
                raise HarnessError(f"container {realized.name} was not removed within 30s")
            time.sleep(0.1)


def _account_id(value: object, kind: str) -> int:
    text = str(value)
    if text.isdigit():
        return int(text)
    # The provider resolves names on the machine running Pulumi; so does the harness.
    import grp
    import pwd

    try:
        return pwd.getpwnam(text).pw_uid if kind == "owner" else grp.getgrnam(text).gr_gid
    except KeyError:
        raise HarnessError(f"upload {kind} {text!r} is not known on this machine") from None


class _RandomHandler(_Handler):
    """pulumi-random: a value drawn at create, kept in the state, gone with destroy."""

    TYPES = (RANDOM_PASSWORD, RANDOM_STRING, RANDOM_ID, RANDOM_INTEGER, RANDOM_UUID)
    replaceable = True
    _SPECIAL = "!@#$%&*()-_=+[]{}<>:?"

    def __init__(self, harness: DockerHarness, type_token: str):
        super().__init__(harness)
        self.type = type_token

    def plan(self, inputs: Inputs) -> dict:
        inputs.get("keepers")  # only replacement triggers, compared with the inputs
        if self.type in (RANDOM_PASSWORD, RANDOM_STRING):
            classes = []
            for flag, minimum, alphabet in (
                ("lower", "minLower", string.ascii_lowercase),
                ("upper", "minUpper", string.ascii_uppercase),
                ("numeric", "minNumeric", string.digits),
                ("special", "minSpecial", inputs.get("overrideSpecial", self._SPECIAL)),
            ):
                enabled = inputs.bool(flag, True)
                if flag == "numeric":
                    enabled = enabled and inputs.bool("number", True)
                classes.append((enabled, inputs.int(minimum, 0), alphabet))
            spec = {"kind": "string", "length": inputs.int("length"), "classes": classes}
            if not spec["length"] or spec["length"] < 1:
                raise HarnessError(f"{self.type}: length must be at least 1")
        elif self.type == RANDOM_ID:
            spec = {
                "kind": "id",
                "bytes": inputs.int("byteLength"),
                "prefix": inputs.get("prefix", ""),
            }
            if not spec["bytes"]:
                raise HarnessError(f"{self.type}: byteLength is required")
        elif self.type == RANDOM_INTEGER:
            spec = {"kind": "integer", "min": inputs.int("min"), "max": inputs.int("max")}
            spec["seed"] = inputs.get("seed")
            if spec["min"] is None or spec["max"] is None or spec["min"] > spec["max"]:
                raise HarnessError(f"{self.type}: needs min <= max")
        else:
            spec = {"kind": "uuid"}
        inputs.done()
        return spec

    def create(self, plan, record):
        spec = plan.spec
        if spec["kind"] == "string":
            chars = [secrets.choice(a) for on, n, a in spec["classes"] if on for _ in range(n)]
            pool = "".join(a for on, _, a in spec["classes"] if on)
            if not pool or len(chars) > spec["length"]:
                raise HarnessError(f"{plan.type}: the minimums do not fit the length")
            chars += [secrets.choice(pool) for _ in range(spec["length"] - len(chars))]
            random.SystemRandom().shuffle(chars)
            result = "".join(chars)
            return ("none" if plan.type == RANDOM_PASSWORD else result), {"result": result}
        if spec["kind"] == "id":
            raw = secrets.token_bytes(spec["bytes"])
            b64_url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            outputs = {
                "hex": spec["prefix"] + raw.hex(),
                "b64Url": spec["prefix"] + b64_url,
                "b64Std": spec["prefix"] + base64.b64encode(raw).decode(),
                "dec": spec["prefix"] + str(int.from_bytes(raw, "big")),
            }
            return outputs["b64Url"], outputs
        if spec["kind"] == "integer":
            # A seed makes the draw repeatable, as in pulumi-random.
            rng = random.Random(spec["seed"]) if spec["seed"] else random.SystemRandom()
            result = rng.randint(spec["min"], spec["max"])
            return str(result), {"result": result}
        result = str(uuid.uuid4())
        return result, {"result": result}

    def exists(self, realized):
        return True  # it lives in the state only

    def delete(self, realized):
        pass  # forgetting it is the deletion
