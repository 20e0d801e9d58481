"""The verdict that ends every `make up` (scripts/verdict.py, run by scripts/after-up.sh):
every container with its state and health and, for each that is not running and
healthy, its last log lines and the likely cause; a failure means make up fails.

The stacks here run on the session's backend, the harness or the real engine,
which agree on what an up does after a failed create (after the refresh make up
asks for, the failed container is `same`): so an up after a failed one is judged
by the verdict, not by Pulumi's word. Without make: test_make_up.py runs make up
itself, where the Pulumi CLI is.
"""

import time

import pytest

from testing.data_directory import REFUSAL, make_unusable, repair
from testing.live import StackError, wait_until
from testing.verdict_output import section

pytestmark = pytest.mark.e2e

# Short, so that a database that cannot start fails the up soon.
START_TIMEOUT = 15
FAILED_TO_BE_HEALTHY = r"container failed to be in healthy state$"  # the provider's words, alone


def verdict(stack, wait: float = 0):
    return stack.run_script("verdict.py", "--wait", str(wait))


def after_up(stack, started: float):
    """What make up runs after pulumi up: the migration report, then the verdict."""
    return stack.run_script("after-up.sh", UP_STARTED=f"{started:.3f}")


def test_on_a_stack_that_is_up_every_container_is_running_and_healthy(live_stack):
    result = verdict(live_stack, wait=60)
    assert (result.returncode, result.stdout.splitlines()[0]) == (
        0,
        "Verdict: all 4 containers running and healthy",
    ), result.stdout + result.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in result.stdout.splitlines()[2:6]}
    assert rows == {
        live_stack.container_name("db"): ["running", "healthy"],
        live_stack.container_name("migrator"): ["running", "healthy"],
        live_stack.container_name("app"): ["running", "healthy"],
        live_stack.container_name("reader"): ["running", "-"],
    }


def test_a_stopped_and_an_unhealthy_container_are_named_with_their_logs_and_causes(make_stack):
    stack = make_stack()
    stack.container("db").stop()
    wait_until(lambda: stack.health("app") == "unhealthy", 90, "the app to turn unhealthy")
    result = verdict(stack)
    db, app = stack.container_name("db"), stack.container_name("app")
    assert (result.returncode, result.stdout.splitlines()[0]) == (
        1,
        "Verdict: 2 of 4 containers not running and healthy",
    ), result.stdout
    assert section(result.stdout, db).splitlines()[:2] == [
        "exited, exit code 0",
        "  likely cause: it was stopped (docker stop) and Docker leaves it so: "
        "make up starts it again",
    ]
    assert "database system is shut down" in section(result.stdout, db)
    assert section(result.stdout, app).splitlines()[:2] == [
        "running, unhealthy",
        f"  likely cause: it needs {db}, which is not running and healthy (see it here)",
    ]


def test_an_up_on_a_database_that_cannot_start_fails_and_so_does_the_next(make_stack):
    stack = make_stack(up=False, startTimeoutSeconds=START_TIMEOUT)
    make_unusable(stack.docker, stack.config.volume_name, stack.config.reader_image)
    db, migrator, app = (stack.container_name(r) for r in ("db", "migrator", "app"))

    started = time.time()
    with pytest.raises(StackError, match=FAILED_TO_BE_HEALTHY):
        stack.up()
    first = after_up(stack, started)
    assert first.returncode == 1, first.stdout
    assert REFUSAL in section(first.stdout, db)
    assert "another major version of PostgreSQL" in section(first.stdout, db)
    assert section(first.stdout, migrator).splitlines()[:2] == [
        "does not exist",
        f"  likely cause: not made: the up makes it once {db} is running and healthy",
    ]
    assert f"once {migrator} is running and healthy" in section(first.stdout, app)
    assert f"migrations: nothing migrated in this up ({migrator} does not exist)" in first.stdout

    # After the refresh, the failed database is the same resource: the up goes on to
    # the migrator, which cannot migrate, and the verdict still names the database.
    started = time.time()
    with pytest.raises(StackError, match=FAILED_TO_BE_HEALTHY):
        stack.up()
    assert stack.steps["db-postgres"] == "same"
    second = after_up(stack, started)
    assert second.returncode == 1, second.stdout
    assert REFUSAL in section(second.stdout, db)
    assert f"it needs {db}" in section(second.stdout, migrator)

    # The volume put right, the next up succeeds: every container is the same for the
    # engine, and make up starts at once the database if Docker is waiting to.
    repair(stack.docker, stack.config.volume_name, stack.config.reader_image)
    started = time.time()
    stack.up()
    third = after_up(stack, started)
    assert (third.returncode, third.stderr) == (0, ""), third.stdout
    # The migrator may migrate only while the verdict waits for it: still this up's.
    assert "migrations: applied 0001_esquema_original" in third.stdout, third.stdout
    stack.wait_for("/status")


def test_without_a_refresh_an_up_replaces_a_container_whose_create_failed(make_stack):
    # The failed create's state is its plan, where the command and entrypoint the
    # program leaves to the image are unknown: force-new, so a new container.
    stack = make_stack(up=False, startTimeoutSeconds=START_TIMEOUT)
    make_unusable(stack.docker, stack.config.volume_name, stack.config.reader_image)
    with pytest.raises(StackError):
        stack.up()
    failed = stack.container("db").id
    with pytest.raises(StackError):
        stack.up(refresh=False)
    assert stack.container("db").id != failed


def test_the_migration_report_of_a_no_change_up_says_that_nothing_was_migrated(make_stack):
    started = time.time()
    stack = make_stack()
    first = stack.run_script("migration-report.sh", UP_STARTED=f"{started:.3f}")
    again = time.time()
    stack.up()
    second = stack.run_script("migration-report.sh", UP_STARTED=f"{again:.3f}")
    assert "migrations: applied 0001_esquema_original" in first.stdout, first.stdout
    assert second.stdout.splitlines() == [
        f"migrations: nothing migrated in this up ({stack.container_name('migrator')} logged no "
        "migration line since it began)"
    ]
