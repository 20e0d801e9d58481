"""Run the real Pulumi program under Pulumi's mock runtime and record what it declares.

`run_program` is shared by the program tests (with `fake_outputs`, which
invents IDs) and the e2e harness (whose `provision` realizes each resource on
a Docker engine and returns its real outputs). Each run starts a fresh root
stack, so one process can run the program many times.
"""

import dataclasses
from collections.abc import Callable

import pulumi
from pulumi.runtime import settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra import config as stack_config
from infra import stack

PROJECT = "desafio2"


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
    config: stack_config.StackConfig | None = None

    def of_type(self, type_token: str) -> list[Declared]:
        return [r for r in self.resources.values() if r.type == type_token]


Provision = Callable[[Declared], tuple[str, dict]]


def fake_outputs(resource: Declared) -> tuple[str, dict]:
    """What a provider would return, with invented but stable IDs."""
    outputs = dict(resource.inputs)
    if resource.type == "docker:index/remoteImage:RemoteImage":
        outputs["imageId"] = f"sha256:{resource.name}-image-id"
        outputs["repoDigest"] = f"{resource.inputs['name']}@sha256:{resource.name}-digest"
    if resource.type == "docker:index/image:Image":
        outputs["repoDigest"] = f"sha256:{resource.name}-built-image-id"
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


def run_program(
    config: dict[str, object],
    provision: Provision = fake_outputs,
    stack_name: str = "test",
) -> ProgramRun:
    """Run the program with `config` (keys without the project prefix; dbPassword is secret)."""
    run = ProgramRun(resources={}, outputs={})
    options: dict[str, pulumi.ResourceOptions] = {}

    settings.reset_options(project=PROJECT, stack=stack_name, preview=False)
    pulumi.runtime.set_mocks(
        _Mocks(run, options, provision), project=PROJECT, stack=stack_name, preview=False
    )
    pulumi.runtime.set_all_config(
        {f"{PROJECT}:{key}": _config_text(value) for key, value in config.items()},
        [f"{PROJECT}:{stack_config.PASSWORD_KEY}"],
    )

    def record_options(args: pulumi.ResourceTransformationArgs):
        options[args.name] = args.opts
        return None

    pulumi.runtime.register_stack_transformation(record_options)

    def program():
        run.config = stack_config.load()
        stack.declare(run.config)

    _sync_await(run_pulumi_func(program))
    root = settings.get_root_resource()
    for key, value in root.outputs.items():
        run.outputs[key] = _sync_await(pulumi.Output.from_input(value).future())
    return run


def _config_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
