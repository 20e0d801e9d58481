"""The program under Pulumi's mock runtime (pulumi/examples testing-unit-py): run it, inspect what it declares."""

import pytest

from tests.support.program import run_program

PASSWORD = "program-test-password-7f3a"


@pytest.fixture(scope="module")
def declared():
    """The program with nothing configured but the password: what a first `make up` gets."""
    return run_program({"dbPassword": PASSWORD})


def unwrap_secret(value):
    """Inputs marked secret arrive wrapped; returns (plain value, was it secret)."""
    if isinstance(value, dict) and value.get("4dabf18193072939515e22adb298388d"):
        return value["value"], True
    return value, False


def env_of(resource) -> dict[str, str]:
    envs, _ = unwrap_secret(resource.inputs.get("envs", []))
    return dict(entry.split("=", 1) for entry in envs)
