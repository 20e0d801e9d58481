"""`make up` itself, through the real Pulumi CLI (testing/make_stack.py): Pulumi's
outcome and the verdict's combined into make's exit status, as a user sees them.

The same story through the stack's up and scripts/after-up.sh, on either backend, is
in test_verdict.py; the Makefile's own part needs the CLI.
"""

import secrets

import pytest

from infra.settings import StackConfig
from testing.data_directory import REFUSAL, make_unusable, repair
from testing.make_stack import MakeStack
from testing.verdict_output import section

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.engine_only("runs make up, which needs the Pulumi CLI"),
]

START_TIMEOUT = 15  # a database that cannot start fails its up soon
MAKE_FAILED = 2  # make's status when a recipe fails


@pytest.fixture
def stack(docker_engine, tmp_path):
    made = MakeStack(
        f"e2e-make-{secrets.token_hex(3)}-",
        tmp_path,
        docker_engine,
        startTimeoutSeconds=START_TIMEOUT,
    )
    yield made
    made.close()


def verdict(result) -> str:
    """What make up printed from its verdict on, after Pulumi's own output."""
    assert "\nVerdict: " in result.stdout, result.stdout + result.stderr
    return result.stdout.split("\nVerdict: ", 1)[1]


def test_make_up_fails_naming_a_database_that_cannot_start_until_its_volume_is_right(stack):
    db = stack.config["dbContainerName"]
    make_unusable(stack.client, stack.volume, StackConfig.reader_image)

    for attempt in ("first", "second"):
        result = stack.make("up")
        assert result.returncode == MAKE_FAILED, f"{attempt} up:\n{result.stdout}"
        assert REFUSAL in section(verdict(result), db), f"{attempt} up:\n{result.stdout}"

    repair(stack.client, stack.volume, StackConfig.reader_image)
    result = stack.make("up")
    assert (result.returncode, verdict(result).splitlines()[0]) == (
        0,
        "all 4 containers running and healthy",
    ), result.stdout + result.stderr
