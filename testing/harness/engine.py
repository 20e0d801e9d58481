"""The Pulumi engine's side: a state, and up, destroy and purge over it.

For each resource the program declares, `up` does what `pulumi up` does with
pulumi-docker: refresh it (read it back from Docker) when the project asks
for refresh, diff the state against the new inputs, then create, keep, update
or replace it, as schema.RULES and the resource's options say. What was done
is in `steps` (the plan of the last operation, by resource name) and `log`.
"""

import dataclasses
import threading
from collections.abc import Iterable
from pathlib import Path

import docker
import yaml

from testing.harness import container, images, network, service, swarm_data, volume
from testing.harness.errors import HarnessError, UnsupportedDeclaration
from testing.harness.inputs import Inputs
from testing.harness.plan import autoname, check_options, diff
from testing.harness.schema import (
    AUTONAMED,
    CONTAINER,
    DELETE_BEFORE_REPLACE,
    IMAGE,
    NETWORK,
    REMOTE_IMAGE,
    RULES,
    SECRET,
    SERVICE,
    SERVICE_CONFIG,
    UNKNOWN,
    VOLUME,
)
from testing.program import Declared, ProgramRun, run_program, unwrap_secrets

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def project_refreshes(project_root: Path = PROJECT_ROOT) -> bool:
    """Whether `pulumi up` refreshes first: `options: refresh: always` in Pulumi.yaml."""
    project = yaml.safe_load((project_root / "Pulumi.yaml").read_text(encoding="utf-8"))
    return (project.get("options") or {}).get("refresh") == "always"


@dataclasses.dataclass
class Realized:
    """One resource in the state: its inputs as declared and the provider's state of it."""

    type: str
    name: str
    inputs: dict
    id: str
    outputs: dict  # the provider's state: what it read back from Docker
    retain_on_delete: bool = False
    failed: bool = False  # created, but its creation reported an error


class DockerHarness:
    """`up(config)` runs the program and reconciles; `destroy()` deletes what Pulumi
    would delete; `purge()` deletes everything the state still holds, retained
    resources included (test cleanup, not Pulumi)."""

    # One program run at a time per process: the mock runtime is global state.
    _run_lock = threading.Lock()

    def __init__(self, client: docker.DockerClient, project_root: Path = PROJECT_ROOT):
        self.client = client
        self.project_root = project_root
        self.log: list[str] = []
        self.steps: dict[str, str] = {}  # resource name -> what the last operation did
        self._state: dict[tuple[str, str], Realized] = {}  # insertion = creation order
        self._lock = threading.Condition()
        self._in_flight = 0
        self._aborted: BaseException | None = None
        self._declared: set[tuple[str, str]] = set()
        self._replace: set[str] = set()
        self._refresh = True
        self._handlers = {
            NETWORK: network.NetworkHandler(client),
            VOLUME: volume.VolumeHandler(client),
            REMOTE_IMAGE: images.RemoteImageHandler(client),
            IMAGE: images.ImageHandler(client, project_root),
            CONTAINER: container.ContainerHandler(client),
            SERVICE: service.ServiceHandler(client),
            SECRET: swarm_data.SecretHandler(client),
            SERVICE_CONFIG: swarm_data.ServiceConfigHandler(client),
        }
        # Replaced resources made before their replacement: deleted at the end of a
        # successful up, once what used them has moved to the new one. After a failed
        # up they stay "pending delete" (what used them may still do, a rolled-back
        # service for one), and the next up, destroy or purge deletes them first.
        self._pending_delete: list[Realized] = []

    def build_from(self, project_root: Path) -> None:
        """Build images from another copy of the project (a changed app/, say), as a
        `pulumi up` run in that checkout would."""
        self._handlers[IMAGE].project_root = project_root

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

    def _step(self, op: str, type_token: str, name: str, detail: str = "") -> None:
        with self._lock:
            self.steps[name] = op
            self.log.append(f"{op} {type_token} {name}{detail}")

    # -- the Pulumi operations ------------------------------------------------

    def up(
        self,
        config: dict[str, object],
        *,
        refresh: bool | None = None,
        replace: Iterable[str] = (),
        stack_name: str = "e2e",
    ) -> ProgramRun:
        """`pulumi up [--replace NAME...]`, refreshing first when Pulumi.yaml says so
        (`refresh` overrides it, like `--refresh` / `--refresh=false`).

        A failed up leaves in the state whatever it created, so that destroy or
        purge can remove it; it waits for provisions still running in other
        threads (the mock runtime registers independent resources in parallel).
        """
        with self._run_lock:
            self.steps = {}
            self._declared = set()
            self._replace = set(replace)
            self._refresh = project_refreshes(self.project_root) if refresh is None else refresh
            self._aborted = None
            self._delete_pending()
            try:
                run = run_program(config, provision=self.provision, stack_name=stack_name)
            except BaseException as error:
                self._abort(error)
                raise
            self._delete_pending()
            unknown = self._replace - {name for _, name in self._declared}
            if unknown:
                raise HarnessError(f"--replace names no declared resource: {sorted(unknown)}")
            # A resource the program no longer declares is deleted, after the rest
            # (Pulumi's update: deletes of removed resources come last).
            gone = [r for r in self.resources if (r.type, r.name) not in self._declared]
            self._delete_all(gone)
            return run

    def destroy(self, *, refresh: bool | None = None) -> None:
        """`pulumi destroy`, refreshing first when Pulumi.yaml says so (`refresh`
        overrides it, like `--refresh=false`): what is already gone from Docker is
        then only dropped from the state. Without a refresh the provider's Delete of
        something already gone succeeds (container_funcs.go:1100-1126, network_funcs.go:212)."""
        self.steps = {}
        self._delete_pending()
        if project_refreshes(self.project_root) if refresh is None else refresh:
            for realized in self.resources:
                if self._handlers[realized.type].read(realized) is None:
                    self._step("refresh-gone", realized.type, realized.name)
                    self._forget(realized)
        self._delete_all(self.resources)

    def purge(self) -> list[str]:
        """Delete everything in the state whatever its options; returns the errors met."""
        errors = []
        for realized in reversed(self._pending_delete + self.resources):
            try:
                self._handlers[realized.type].delete(realized)
            except Exception as error:  # keep going: this is the last line of cleanup
                errors.append(f"{realized.type} {realized.name}: {error}")
            self._forget(realized)
        self._pending_delete = []
        return errors

    def _delete_all(self, realized: list[Realized]) -> None:
        for resource in reversed(realized):
            self._delete_one(resource)

    def _delete_one(self, realized: Realized) -> None:
        # retain_on_delete: the engine skips the provider's Delete and drops it from the state.
        if realized.retain_on_delete:
            self._step("retain", realized.type, realized.name)
        else:
            self._handlers[realized.type].delete(realized)
            self._step("delete", realized.type, realized.name)
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
                f"resource {declared.name!r} of type {declared.type}: the program never "
                "declared this type before, so the e2e harness does not simulate it; add a "
                "module to testing/harness/ that follows the provider's source"
            )
        options = check_options(declared)
        where = f"{declared.type.rsplit(':', 1)[-1]} {declared.name!r}"
        news = handler.check(Inputs(unwrap_secrets(declared.inputs), where))
        old = self.find(declared.type, declared.name)
        autonamed = declared.type in AUTONAMED and not news.get("name")
        if autonamed:
            news["name"] = old.inputs["name"] if old is not None else autoname(declared.name)

        if old is not None and self._refresh:
            fresh = handler.read(old)
            if fresh is None:
                self._step("refresh-gone", declared.type, declared.name)
                self._forget(old)
                old = None
                if autonamed:
                    news["name"] = autoname(declared.name)
            else:
                # A refresh replaces the state's initialization errors with those the
                # provider's Read reports (pulumi/pulumi pkg/resource/deploy/step.go,
                # RefreshStep.Apply: `s.new.InitErrors = initErrors`), and a container's
                # Read reports none: a create that failed its health wait is then `same`.
                old.outputs, old.failed = fresh, False

        if old is None:
            return self._create(declared, handler, news, options, step="create")

        # Pulumi's resource options, as its documentation states them
        # (pulumi.com/docs/iac/concepts/options/): ignoreChanges keeps the old value
        # of the listed properties out of the diff; replaceOnChanges makes a change
        # to them a replacement; deleteBeforeReplace deletes the old one first.
        ignored = set(options.ignore_changes or [])
        named = ignored | set(options.replace_on_changes or [])
        if named - set(RULES[declared.type]):
            raise UnsupportedDeclaration(
                f"{declared.name!r}: ignore_changes/replace_on_changes name "
                f"{sorted(named - set(RULES[declared.type]))}, which the harness's state of "
                f"a {declared.type} does not keep apart (schema.RULES): a path it would "
                "silently not honour"
            )
        for key in ignored:
            news[key] = old.inputs.get(key)
        changed = diff(RULES[declared.type], old.outputs, news, ignored)
        replacing = {key for key in changed if RULES[declared.type][key].replaces}
        replacing |= changed & set(options.replace_on_changes or [])
        if declared.name in self._replace or replacing:
            detail = f" ({', '.join(sorted(replacing))})" if replacing else " (--replace)"
            if autonamed:
                # The engine checks a replacement's inputs again without the old ones:
                # a new auto-name (pulumi/pulumi, the step generator's replace path).
                news["name"] = autoname(declared.name)
            if declared.type in DELETE_BEFORE_REPLACE or options.delete_before_replace:
                self._delete_replaced(old)
                self._forget(old)
                return self._create(declared, handler, news, options, step="replace", detail=detail)
            # The new one takes the old one's place in the state.
            result = self._create(declared, handler, news, options, step="replace", detail=detail)
            self._pending_delete.append(old)
            return result

        if changed or old.failed:
            # Without a refresh, a resource whose creation reported an error keeps its
            # initialization errors, and the step generator plans an update for them
            # (pulumi/pulumi pkg/resource/deploy/step_generator.go, hasInitErrors
            # passed to applyReplaceOnChanges).
            # What the program ignores keeps its value in the state: the bridge
            # drops those paths from the plan (pulumi-terraform-bridge v3.136.0 and
            # after, pulumi-docker pins v3.137.0: pkg/tfbridge/diff.go:272-330,
            # pkg/tfshim/sdk-v2/instance_diff.go:95).
            planned = {**news, **{key: old.outputs.get(key) for key in ignored}}
            old.outputs = handler.update(old, planned, changed)
            old.inputs, old.failed = news, False
            self._step("update", declared.type, declared.name, f" ({', '.join(sorted(changed))})")
        else:
            self._step("same", declared.type, declared.name)
        old.retain_on_delete = bool(options.retain_on_delete)
        return old.id, old.outputs

    def _create(self, declared, handler, news, options, *, step: str, detail: str = ""):
        realized = Realized(
            declared.type,
            declared.name,
            news,
            id="",
            outputs={},
            retain_on_delete=bool(options.retain_on_delete),
        )

        def record(resource_id: str, outputs: dict) -> None:
            # In the state from here on: a failure after this leaves something to destroy.
            # What a Create that returns an error leaves is its planned state, the schema's
            # defaults included, not a read-back (funcs.go:614 returns before the Read).
            rules = RULES[declared.type]
            defaults = {k: r.default for k, r in rules.items() if r.default is not None}
            # What the program leaves to Docker (Computed) is unknown in that plan, and
            # without a refresh the next plan, Terraform's, reads unknown as a change: a
            # container whose create failed is replaced for its command and entrypoint
            # (seen on the engine: pulumi 3.274.1, pulumi-docker 5.2.0; both are
            # Optional, Computed and ForceNew: resource_docker_container.go:163-179).
            unknown = {k: UNKNOWN for k, r in rules.items() if r.computed and news.get(k) is None}
            realized.id, realized.failed = resource_id, True
            realized.outputs = {**defaults, **outputs, **unknown}
            self._record(realized)

        resource_id, outputs = handler.create(news, record)
        realized.id, realized.outputs, realized.failed = resource_id, outputs, False
        self._record(realized)
        self._step(step, declared.type, declared.name, detail)
        return resource_id, outputs

    def _delete_pending(self) -> None:
        while self._pending_delete:
            self._delete_replaced(self._pending_delete[0])
            self._pending_delete.pop(0)

    def _delete_replaced(self, old: Realized) -> None:
        # retainOnDelete (options docs): the provider's Delete is skipped "when it is
        # deleted or replaced", and the resource only leaves the state.
        if not old.retain_on_delete:
            self._handlers[old.type].delete(old)
