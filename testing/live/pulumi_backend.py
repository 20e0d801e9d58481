"""The real Pulumi engine as a LiveStack's backend, through pulumi.automation.

It offers what the harness (testing/harness) offers a LiveStack: `up(config,
refresh=, replace=)`, `destroy(refresh=False)`, `purge()`, `steps`, `resources`,
`build_from(root)`, so that one LiveStack runs the same tests on either.

Each backend has a work folder of its own in the temporary folder,
`<stack prefix>pulumi-XXXX`, holding:
- Pulumi.yaml, generated from the project's: same name and runtime, the
  virtualenv of the interpreter running the tests, and `main: program`, a link
  to the project's root (the engine wants `main` inside the project's folder:
  pulumi/pulumi pkg/engine/project.go, getPwdMain, "project 'main' must be a
  subfolder"; the program then runs in the root, where its relative build
  context `app` is);
- state/, the stack's file backend (PULUMI_BACKEND_URL=file://...), with a
  passphrase made for it, so that no user's backend or stack is ever touched.
The whole folder goes at `purge()`; the next up makes a new one.
"""

import json
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import pulumi
import yaml
from pulumi import automation as auto

from infra.settings import SECRETS
from testing.harness import PROJECT_ROOT, Realized, project_refreshes
from testing.harness.errors import StackError
from testing.program import SECRET_SIG, SECRET_SIG_KEY, Declared, ProgramRun, _config_text

STACK_NAME = "e2e"
WORK_DIR_MARK = "pulumi-"
# The engine's step ops in LiveStack.steps' words (the harness's): a replacement is
# up to three steps of one resource (replace, create-replacement, delete-replaced),
# and `up --refresh` first reads every resource back (refresh steps), which plans
# nothing. A retained resource's delete is "retain", as in the harness: the engine
# keeps it in Docker and only drops it from the state.
_AS_STEP = {"create-replacement": "replace", "delete-replaced": "replace"}
_NOT_A_STEP = {"refresh"}
# Colour markup the engine may leave in a diagnostic's text.
_MARKUP = re.compile(r"<\{%[^%]*%\}>|\x1b\[[0-9;]*m")


class EngineError(StackError):
    """A Pulumi operation failed on the real engine; the message is the engine's
    error diagnostics (the provider's words among them)."""


def work_dirs(prefix: str) -> list[Path]:
    """The work folders of every backend made under prefix (cleanup's safety net)."""
    return sorted(Path(tempfile.gettempdir()).glob(f"{prefix}*{WORK_DIR_MARK}*"))


def virtualenv() -> str:
    """The virtualenv the program runs in: the one running the tests, or the project's."""
    if sys.prefix != sys.base_prefix:
        return sys.prefix
    return str(PROJECT_ROOT / ".venv")


class _Events:
    """What an operation's engine events say: each resource's step, the errors."""

    def __init__(self):
        self.steps: dict[str, str] = {}
        self.log: list[str] = []
        self.errors: list[tuple[bool, str]] = []  # (of a program resource, text)

    def __call__(self, event: auto.EngineEvent) -> None:
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            op = getattr(meta.op, "value", meta.op)
            if op in _NOT_A_STEP or meta.type.startswith("pulumi:"):
                return  # the stack and the provider are the engine's own, not the program's
            step = _AS_STEP.get(op, op)
            if op == "delete" and meta.old is not None and meta.old.retain_on_delete:
                step = "retain"
            self.steps[_name(meta.urn)] = step
            # As the harness logs them: what forces a replacement, or what changed.
            keys = (meta.keys if step == "replace" else meta.diffs) or []
            detail = f" ({', '.join(sorted(keys))})" if keys and step != "same" else ""
            self.log.append(f"{step} {meta.type} {_name(meta.urn)}{detail}")
        elif event.res_op_failed_event is not None:
            # The harness records a step once it is done: a failed one is no step.
            meta = event.res_op_failed_event.metadata
            self.steps.pop(_name(meta.urn), None)
            self.log.append(f"failed {getattr(meta.op, 'value', meta.op)} {_name(meta.urn)}")
        elif event.diagnostic_event is not None and event.diagnostic_event.severity == "error":
            diagnostic = event.diagnostic_event
            text = _MARKUP.sub("", diagnostic.message).strip()
            if text:
                self.errors.append((_of_the_program(diagnostic.urn or ""), text))

    def message(self) -> str:
        """The errors, the engine's own (the stack's "update failed") first and the
        resources' last, so that a message ends with the provider's words, as the
        harness's does."""
        return "\n".join(text for _, text in sorted(self.errors, key=lambda e: e[0]))


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _of_the_program(urn: str) -> bool:
    """The URN names one of the program's resources (urn:pulumi:STACK::PROJECT::TYPE::NAME)."""
    parts = urn.split("::")
    return len(parts) >= 4 and not parts[2].split("$")[-1].startswith("pulumi:")


def _revealed(value):
    """A state value from `stack export --show-secrets` with each secret in the form the
    mock runtime gives (testing.program.is_secret): {sig: SECRET_SIG, value: ...}."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG and "plaintext" in value:
            return {SECRET_SIG_KEY: SECRET_SIG, "value": _revealed(json.loads(value["plaintext"]))}
        return {key: _revealed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_revealed(item) for item in value]
    return value


class PulumiBackend:
    """One stack on the real engine, in a work folder of its own (module docstring)."""

    def __init__(self, prefix: str, docker_host: str | None = None):
        self.prefix = prefix
        # The provider's engine (config docker:host) when not the tests' own (DOCKER_HOST).
        self._provider_config = {"docker:host": docker_host} if docker_host else {}
        self.log: list[str] = []
        self.steps: dict[str, str] = {}
        self._root = PROJECT_ROOT
        self._work_dir: Path | None = None
        self._stack: auto.Stack | None = None
        self._state: list[Realized] | None = None
        self._urn_of: dict[str, str] = {}

    # -- the work folder and the stack --

    def _ensure_stack(self) -> auto.Stack:
        if self._stack is None:
            self._work_dir = Path(tempfile.mkdtemp(prefix=f"{self.prefix}{WORK_DIR_MARK}"))
            (self._work_dir / "state").mkdir()
            passphrase = self._work_dir / "passphrase"
            passphrase.write_text(secrets.token_urlsafe(32), encoding="utf-8")
            self._write_project()
            env = {
                "PULUMI_BACKEND_URL": (self._work_dir / "state").as_uri(),
                # Both, the same: a PULUMI_CONFIG_PASSPHRASE_FILE from the caller's
                # environment (make exports one) must not name another passphrase.
                "PULUMI_CONFIG_PASSPHRASE": passphrase.read_text(encoding="utf-8"),
                "PULUMI_CONFIG_PASSPHRASE_FILE": str(passphrase),
                "PULUMI_SKIP_UPDATE_CHECK": "true",
            }
            self._stack = auto.create_stack(
                STACK_NAME,
                work_dir=str(self._work_dir),
                opts=auto.LocalWorkspaceOptions(env_vars=env),
            )
        return self._stack

    def _write_project(self) -> None:
        """Pulumi.yaml for this work folder: the project's name and runtime, the program
        in `program` (a link to the project's root or a copy with another app/)."""
        project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
        runtime = project["runtime"]
        options = {**(runtime.get("options") or {}), "virtualenv": virtualenv()}
        main = self._program_dir()
        generated = {
            "name": project["name"],
            "runtime": {"name": runtime["name"], "options": options},
            "main": main,
        }
        # Pulumi.yaml's `options: refresh` is left out: up passes --refresh itself
        # (project_refreshes), so that refresh=False is an up without one.
        text = yaml.safe_dump(generated, sort_keys=False)
        (self._work_dir / "Pulumi.yaml").write_text(text, encoding="utf-8")

    def _program_dir(self) -> str:
        if self._root == PROJECT_ROOT:
            link = self._work_dir / "program"
            if not link.is_symlink():
                link.symlink_to(PROJECT_ROOT, target_is_directory=True)
            return link.name
        # Another copy of the app (build_from): the project's files, linked, with that
        # copy's app/ copied in. Copied, not linked: the build context is `app` itself.
        folder = Path(tempfile.mkdtemp(prefix="program-", dir=self._work_dir))
        for entry in PROJECT_ROOT.iterdir():
            if entry.name not in ("app", ".git"):
                (folder / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        shutil.copytree(self._root / "app", folder / "app")
        return folder.name

    def build_from(self, project_root: Path) -> None:
        """Build the app from another copy of the project in the next ups."""
        self._root = Path(project_root).resolve()
        if self._stack is not None:
            self._write_project()

    # -- the operations --

    def up(
        self, config: dict[str, object], *, refresh: bool | None = None, replace: Iterable[str] = ()
    ) -> ProgramRun:
        """`pulumi up --skip-preview [--refresh] [--replace URN...]` (no preview:
        `make up` skips it too); `replace` names resources as the harness does."""
        stack = self._ensure_stack()
        stack.set_all_config(
            {
                key: auto.ConfigValue(_config_text(value), secret=key in SECRETS)
                for key, value in config.items()
            }
            | {key: auto.ConfigValue(value) for key, value in self._provider_config.items()}
        )
        urns = self._urns(replace)
        refresh = project_refreshes() if refresh is None else refresh
        result = self._operate(
            lambda on_event: stack.up(
                refresh=refresh,
                replace=urns or None,
                on_event=on_event,
                color="never",
                suppress_progress=True,
            )
        )
        resources = {
            r.name: Declared(r.type, r.name, r.inputs, pulumi.ResourceOptions(), r.id, r.outputs)
            for r in self.resources
        }
        outputs = {key: output.value for key, output in result.outputs.items()}
        return ProgramRun(resources=resources, outputs=outputs)

    def destroy(self, *, refresh: bool | None = None) -> None:
        """`pulumi destroy --skip-preview`, refreshing first as Pulumi.yaml says unless
        `refresh` says otherwise (make down: refresh=False), as the harness does."""
        refresh = project_refreshes() if refresh is None else refresh
        if self._stack is None:
            self.steps = {}
            return
        self._operate(
            lambda on_event: self._stack.destroy(
                refresh=refresh, on_event=on_event, color="never", suppress_progress=True
            )
        )

    def purge(self) -> list[str]:
        """Destroy (again with a refresh if that fails), then remove the work folder and
        with it the state backend; returns the errors met. Retained resources stay in
        Docker: LiveStack.purge removes what carries the prefix."""
        errors = []
        if self._stack is not None:
            for refresh in (False, True):
                try:
                    self.destroy(refresh=refresh)
                    break
                except StackError as error:
                    failure = f"pulumi destroy{' --refresh' * refresh}: {error}"
            else:
                errors.append(failure)
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
        self._stack, self._work_dir, self._state = None, None, None
        return errors

    def _operate(self, operation: Callable[[Callable], object]):
        events = _Events()
        self.steps, self._state = {}, None
        try:
            return operation(events)
        except auto.CommandError as error:
            raise EngineError(events.message() or str(error)) from error
        finally:
            self.steps = events.steps
            self.log += events.log

    # -- the state --

    @property
    def resources(self) -> list[Realized]:
        """The program's resources in the stack's state (`pulumi stack export`), secrets
        in the mock runtime's form; the engine's own (stack, providers) left out."""
        if self._stack is None:
            return []
        if self._state is None:
            deployment = self._stack.export_stack().deployment or {}
            self._state = [
                Realized(
                    type=r["type"],
                    name=_name(r["urn"]),
                    inputs=_revealed(r.get("inputs") or {}),
                    id=r.get("id", ""),
                    outputs=_revealed(r.get("outputs") or {}),
                    retain_on_delete=bool(r.get("retainOnDelete")),
                    failed=bool(r.get("initErrors")),
                )
                for r in deployment.get("resources") or []
                if not r["type"].startswith("pulumi:") and not r.get("delete")
            ]
            self._urn_of = {_name(r["urn"]): r["urn"] for r in deployment.get("resources") or []}
        return self._state

    def find(self, type_token: str, name: str) -> Realized | None:
        return next((r for r in self.resources if (r.type, r.name) == (type_token, name)), None)

    def _urns(self, names: Iterable[str]) -> list[str]:
        names = list(names)
        if not names:
            return []
        self.resources  # noqa: B018 - reads the state, and with it the URNs
        unknown = [name for name in names if name not in self._urn_of]
        if unknown:
            raise StackError(f"--replace names no resource in the state: {sorted(unknown)}")
        return [self._urn_of[name] for name in names]
