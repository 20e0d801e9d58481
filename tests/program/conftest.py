"""The program under Pulumi's mock runtime (pulumi/examples testing-unit-py): run it, inspect what it declares."""

import pytest

from tests.support.program import run_program, unwrap_secrets

PASSWORD = "program-test-password-7f3a"


@pytest.fixture(scope="module")
def declared():
    """The program with nothing configured but the password: what a first `make up` gets."""
    return run_program({"dbPassword": PASSWORD})


def env_of(resource) -> dict[str, str]:
    envs = unwrap_secrets(resource.inputs.get("envs", []))
    return dict(entry.split("=", 1) for entry in envs)
