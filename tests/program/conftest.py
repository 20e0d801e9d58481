"""The program under Pulumi's mock runtime (pulumi/examples testing-unit-py): run it, inspect what it declares."""

import pytest

from tests.support.program import run_program, unwrap_secrets

PASSWORD = "program-test-password-7f3a"
API_PASSWORD = "program-test-api-password-2c9e"
# What a first `make up` sets: the two generated secrets.
PASSWORDS = {"dbPassword": PASSWORD, "dbApiPassword": API_PASSWORD}


@pytest.fixture(scope="module")
def declared():
    """The program with nothing configured but the passwords: what a first `make up` gets."""
    return run_program(PASSWORDS)


def env_of(resource) -> dict[str, str]:
    envs = unwrap_secrets(resource.inputs.get("envs", []))
    return dict(entry.split("=", 1) for entry in envs)
