"""The harness plans what the real engine plans: the same sequence run on both, each
on a stack of its own, gives every resource the same step (create, same, update,
replace, delete, retain) after every operation.

Only where the real engine runs (E2E_ENGINE=pulumi, or found on PATH): this is
what keeps the harness, on which CI runs, true to `pulumi up`.
"""

import pytest

from testing.data_directory import make_unusable
from testing.live import HARNESS_ENGINE, StackError

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.engine_only("compares the harness with the real engine"),
]

START_TIMEOUT = 15  # a database that cannot start fails its up soon


@pytest.fixture
def pair(stack_factory):
    """Two stacks of the same config, not up: on the real engine, then on the harness."""
    made = []

    def make(**config):
        made.extend(
            [
                stack_factory.make(up=False, **config),
                stack_factory.make(up=False, engine=HARNESS_ENGINE, **config),
            ]
        )
        return made[-2:]

    yield make
    for stack in reversed(made):
        stack.purge()


def agree(stacks, operation, fails: bool | None = False) -> dict[str, str]:
    """operation(stack) on each: both must fail (StackError) or both succeed, as `fails`
    says (None: either, the same on both), and give every resource the same step."""
    seen = {}
    for stack in stacks:
        try:
            operation(stack)
            failed = False
        except StackError:
            failed = True
        seen[stack.engine.kind] = (failed, dict(stack.steps))
    assert seen["harness"] == seen["pulumi"]
    if fails is not None:
        assert seen["pulumi"][0] == fails, seen["pulumi"]
    return seen["pulumi"][1]


def up(stack, **config):
    return stack.up(**config)


def test_a_first_up_creates_everything_and_a_second_changes_nothing(pair):
    stacks = pair()
    assert set(agree(stacks, up).values()) == {"create"}
    assert set(agree(stacks, up).values()) == {"same"}
    assert "retain" in agree(stacks, lambda s: s.destroy()).values()
    assert "create" in agree(stacks, up).values()


def test_a_health_check_change(pair):
    stacks = pair()
    agree(stacks, up)
    assert "replace" in agree(stacks, lambda s: s.up(healthcheckIntervalSeconds=2)).values()
    assert set(agree(stacks, up).values()) == {"same"}


def test_a_container_removed_by_hand_and_one_stopped_by_hand(pair):
    stacks = pair()
    agree(stacks, up)

    def remove_reader_stop_app(stack):
        stack.container("reader").remove(force=True)
        stack.container("app").stop()
        stack.up()

    steps = agree(stacks, remove_reader_stop_app)
    assert steps["leitor-dados"] == "create"

    def stop_reader(stack):
        stack.container("reader").stop()
        stack.up()

    agree(stacks, stop_reader)


def test_a_changed_volume_name(pair):
    stacks = pair()
    agree(stacks, up)
    steps = agree(stacks, lambda s: s.up(volumeName=f"{s.prefix}other-volume"))
    # The program keeps the volume it has (docs/persistence.md: never replaced).
    assert set(steps.values()) == {"same"}


def test_a_failed_create_then_an_up(pair):
    stacks = pair(startTimeoutSeconds=START_TIMEOUT)
    for stack in stacks:
        make_unusable(stack.docker, stack.config.volume_name, stack.config.reader_image)
    agree(stacks, up, fails=True)
    steps = agree(stacks, up, fails=True)
    assert steps["db-postgres"] == "same"
    # Without a refresh, what the failed creates left is planned again (init errors).
    agree(stacks, lambda s: s.up(refresh=False), fails=None)
