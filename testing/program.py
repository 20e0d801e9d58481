"""Run the real Pulumi program under Pulumi's mock runtime and record what it declares.

`run_program` is shared by the program tests (with `fake_outputs`, which
invents IDs) and the e2e harness (whose `provision` realizes each resource on
a Docker engine and returns its real outputs). It uses Pulumi's public testing
API only, as pulumi/examples' testing-unit-py does: `set_mocks`, config, a
stack transformation to see each resource's options, and `runtime.test` to
run the program and wait for its outputs. One process can run it many times.
"""

import asyncio
import dataclasses
import hashlib
import threading
from collections.abc import Callable, Iterator

import pulumi

from infra import config as stack_config
from infra import settings
from infra import stack as infra_stack

PROJECT = "desafio2"
# The passwords the program tests run with: what a first `make up` sets, the two generated secrets.
PASSWORD = "program-test-password-7f3a"
API_PASSWORD = "program-test-api-password-2c9e"
PASSWORDS = {"dbPassword": PASSWORD, "dbApiPassword": API_PASSWORD}

# Pulumi's wire format marks a secret as {SECRET_SIG_KEY: SECRET_SIG, "value": ...}
# (the "special signature" values of the resource-provider protocol); the mock
# runtime hands inputs over in that form.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def is_secret(value: object) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def unwrap_secrets(value):
    """The value with every secret replaced by what it holds, at any depth."""
    if is_secret(value):
        return unwrap_secrets(value.get("value"))
    if isinstance(value, dict):
        return {key: unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(item) for item in value]
    return value


def plain_strings(value) -> Iterator[str]:
    """Every string in a tree of inputs or outputs, leaving out what Pulumi marks secret."""
    if is_secret(value):
        return
    if isinstance(value, dict):
        for item in value.values():
            yield from plain_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from plain_strings(item)
    elif isinstance(value, str):
        yield value


@dataclasses.dataclass
class Declared:
    """One resource as the program declared it: the inputs (camelCase keys, resolved) and options."""

    type: str
    name: str
    inputs: dict
    options: pulumi.ResourceOptions
    id: str | None = None
    outputs: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ProgramRun:
    resources: dict[str, Declared]  # by logical name, in declaration order
    outputs: dict  # the stack outputs, resolved
    config: settings.StackConfig | None = None
    stack: infra_stack.Stack | None = None  # the program's own resource objects

    def of_type(self, type_token: str) -> list[Declared]:
        return [r for r in self.resources.values() if r.type == type_token]


Provision = Callable[[Declared], tuple[str, dict]]


def fake_outputs(resource: Declared) -> tuple[str, dict]:
    """What a provider would return, with invented IDs that follow the inputs:
    the same declaration gets the same ID, a changed one a new ID."""
    outputs = dict(resource.inputs)
    digest = hashlib.sha256(repr(sorted(resource.inputs.items())).encode()).hexdigest()
    if resource.type == "docker:index/remoteImage:RemoteImage":
        outputs["imageId"] = f"sha256:{digest}"
        outputs["repoDigest"] = f"{resource.inputs['name']}@sha256:{digest}"
    if resource.type == "docker:index/image:Image":
        outputs["repoDigest"] = f"sha256:{digest}"
    return f"{resource.name}-id", outputs


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self, run: ProgramRun, options: dict, provision: Provision):
        self._run = run
        self._options = options
        self._provision = provision

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        declared = Declared(
            type=args.typ,
            name=args.name,
            inputs=args.inputs,
            options=self._options.get(args.name, pulumi.ResourceOptions()),
        )
        declared.id, declared.outputs = self._provision(declared)
        self._run.resources[args.name] = declared
        return declared.id, declared.outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        raise NotImplementedError(f"the program made an unexpected call: {args.token}")


# The stack transformation outlives a run (it belongs to the process's root
# stack), so it is registered once and records into the run under way.
_current_options: dict[str, pulumi.ResourceOptions] = {}
_transformation_registered = threading.Event()


def _record_options(args: pulumi.ResourceTransformationArgs):
    _current_options[args.name] = args.opts
    return None


def run_program(
    config: dict[str, object],
    provision: Provision = fake_outputs,
    stack_name: str = "test",
) -> ProgramRun:
    """Run the program with `config` (keys without the project prefix; the SECRETS are secret)."""
    run = ProgramRun(resources={}, outputs={})
    _current_options.clear()
    pulumi.runtime.set_mocks(
        _Mocks(run, _current_options, provision), project=PROJECT, stack=stack_name, preview=False
    )
    pulumi.runtime.set_all_config(
        {f"{PROJECT}:{key}": _config_text(value) for key, value in config.items()},
        [f"{PROJECT}:{key}" for key in settings.SECRETS],
    )
    if not _transformation_registered.is_set():
        pulumi.runtime.register_stack_transformation(_record_options)
        _transformation_registered.set()

    _quiet_unretrieved_failures()

    @pulumi.runtime.test
    def program():
        run.config = stack_config.load()
        run.stack = infra_stack.declare(run.config)
        return pulumi.Output.all(**run.stack.outputs).apply(run.outputs.update)

    program()
    return run


def _quiet_unretrieved_failures() -> None:
    """A failed run reaches the caller as an exception; the mock runtime leaves the same
    error in futures nobody awaits, which asyncio would print, one by one, at exit."""
    try:
        loop = asyncio.get_event_loop()  # the loop the Pulumi SDK runs the program on
    except RuntimeError:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

    def handler(loop, context):
        if context.get("message") != "Future exception was never retrieved":
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


def _config_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
