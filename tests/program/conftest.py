"""The program under Pulumi's mock runtime (pulumi/examples testing-unit-py): run it, inspect what it declares."""

import pytest

from testing.program import API_PASSWORD, PASSWORD, PASSWORDS, run_program, unwrap_secrets
from testing.swarm_run import run_swarm

__all__ = ["API_PASSWORD", "PASSWORD", "PASSWORDS", "env_of"]


@pytest.fixture(scope="module")
def declared():
    """The program with nothing configured but the passwords: what a first `make up` gets."""
    return run_program(PASSWORDS)


def env_of(resource) -> dict[str, str]:
    envs = unwrap_secrets(resource.inputs.get("envs", []))
    return dict(entry.split("=", 1) for entry in envs)


@pytest.fixture(scope="module")
def declared_on_swarm():
    """The swarm target with nothing else configured: what a first `make up` on a swarm gets."""
    return run_swarm()
