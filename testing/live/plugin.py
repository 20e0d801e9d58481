"""Fixtures for the tests that run the declared stack on a real Docker engine.

- `docker_engine` (session): a Docker client. Without an engine, or without the
  base images, the test is skipped with the reason; under CI=true it fails.
- `live_stack` (session): the stack, up, with isolated names and a free port.
  Shared by every test of the session; after each test that used it, it is
  restored (config as made, then up: anything stopped or removed comes back).
- `make_stack` (function): `make_stack(up=True, **config)` gives a stack of the
  test's own, removed at the end of the test; for tests that destroy, change
  config or need a fresh database.
- `stack_factory` (session): the same for longer-lived stacks (module fixtures).

The stacks run on the session's backend (testing/live/selection.py: the real
Pulumi engine where installed, else the harness; E2E_ENGINE forces one), which
the pytest header names (tests/conftest.py, for every run). Marks: `harness_only(reason)` for a test about the
harness itself, `engine_only(reason)` for one that needs the real engine; each
is skipped, saying why, on the other backend.

The LiveStack API is in testing/live/ and tests/e2e/README.md. A plugin rather
than one suite's conftest: tests/e2e, tests/swarm, tests/suite and tests/bench use
it, and each registers it in its conftest (pytest_configure: import_plugin), so that
it is registered once, its session fixtures made once, whichever of them runs.
"""

import os
from pathlib import Path

import pytest

from testing.live import (
    EngineUnavailable,
    LiveStack,
    StackFactory,
    chosen,
    connect_engine,
    require_base_images,
)
from testing.live.selection import VARIABLE

# The suite whose every test needs the engine.
E2E_DIR = Path(__file__).resolve().parents[2] / "tests" / "e2e"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "harness_only(reason): about the e2e harness itself; skipped on the real Pulumi engine",
    )
    config.addinivalue_line(
        "markers",
        "engine_only(reason): needs the real Pulumi engine; skipped on the harness",
    )
    if os.environ.get(VARIABLE):
        # Asked for by name: say at once when it cannot be had, never fall back.
        try:
            chosen()
        except EngineUnavailable as error:
            raise pytest.UsageError(str(error)) from None


_E2E_COLLECTED = pytest.StashKey[bool]()


def pytest_terminal_summary(terminalreporter, config):
    # The header names the engine (tests/conftest.py); `-q` drops the header, so then
    # the summary says which engine ran the stacks.
    if config.stash.get(_E2E_COLLECTED, False) and terminalreporter.verbosity < 0:
        terminalreporter.write_line(chosen().header())


def _only_on(item, engine) -> str | None:
    """Why the item does not run on this backend, if it does not."""
    for mark, needs_real in (("harness_only", False), ("engine_only", True)):
        marker = item.get_closest_marker(mark)
        if marker is not None and engine.real != needs_real:
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            where = "the real Pulumi engine" if needs_real else "the harness"
            return f"runs on {where} only: {reason} ({engine.header()})"
    return None


# tryfirst: before `-m` deselects by marks.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # Everything under tests/e2e, and any test elsewhere that uses the engine,
    # needs the engine: `-m "not e2e"` must leave it all out.
    for item in items:
        needs_engine = E2E_DIR in Path(item.fspath).resolve().parents or (
            "docker_engine" in getattr(item, "fixturenames", ())
        )
        if needs_engine and not item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.e2e)
        if needs_engine or item.get_closest_marker("e2e"):
            config.stash[_E2E_COLLECTED] = True
        elsewhere = _only_on(item, chosen())
        if elsewhere is not None:
            item.add_marker(pytest.mark.skip(reason=elsewhere))


@pytest.fixture(scope="session")
def docker_engine():
    client = connect_engine()
    require_base_images(client)
    yield client
    client.close()


@pytest.fixture(scope="session")
def stack_factory(docker_engine):
    factory = StackFactory(docker_engine)
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def live_stack(stack_factory) -> LiveStack:
    return stack_factory.make()


@pytest.fixture(autouse=True)
def _live_stack_restored(request):
    # A test may stop, remove or destroy parts of the shared stack, or change its
    # config: the next one finds it up again, as made (an up costs well under a second).
    yield
    stack = request.node.funcargs.get("live_stack")  # absent when its setup skipped or failed
    if stack is not None:
        stack.restore()


@pytest.fixture
def make_stack(stack_factory):
    made: list[LiveStack] = []

    def make(*, up: bool = True, **config: object) -> LiveStack:
        stack = stack_factory.make(up=up, **config)
        made.append(stack)
        return stack

    yield make
    for stack in reversed(made):
        stack.purge()
