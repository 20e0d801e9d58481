"""The swarm target under the mock runtime, shared by tests/program's swarm tests:
how it is run (tests/program/conftest.py's fixture `declared_on_swarm` runs it), and
how its declarations are read."""

import base64

from testing.harness.schema import AUTONAMED, SERVICE, SERVICE_CONFIG
from testing.program import PASSWORDS, ProgramRun, fake_outputs, run_program

REGISTRY = "registry.example.com:5000"
SWARM = {**PASSWORDS, "target": "swarm", "registry": REGISTRY}
SERVICE_NAMES = ("db-postgres", "db-migracoes", "app-flask", "leitor-dados")


def autonamed_outputs(resource):
    """fake_outputs, plus the name the provider gives a Secret or ServiceConfig that the
    program leaves unnamed (its logical name, "-" and 7 random characters): the mock
    runtime does no auto-naming, and a service refers to these by ID and name."""
    resource_id, outputs = fake_outputs(resource)
    if resource.type in AUTONAMED and not outputs.get("name"):
        outputs["name"] = f"{resource.name}-5f0c2a9"
    return resource_id, outputs


def run_swarm(**config) -> ProgramRun:
    return run_program({**SWARM, **config}, provision=autonamed_outputs)


def spec(run, service_name: str) -> dict:
    return run.resources[service_name].inputs["taskSpec"]["containerSpec"]


def services(run) -> list:
    return run.of_type(SERVICE)


def decoded(data: str) -> str:
    return base64.b64decode(data).decode("utf-8")


def mounted_configs(run, service_name: str) -> dict[str, str]:
    """File path -> content of the swarm configs a service's tasks get."""
    configs = {c.id: c for c in run.of_type(SERVICE_CONFIG)}
    return {
        block["fileName"]: decoded(configs[block["configId"]].inputs["data"])
        for block in spec(run, service_name).get("configs", [])
    }


def walk_values_under(value, keys: set[str]):
    """Every value held under a dict key in `keys`, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in keys:
                yield item
            yield from walk_values_under(item, keys)
    elif isinstance(value, list):
        for item in value:
            yield from walk_values_under(item, keys)
