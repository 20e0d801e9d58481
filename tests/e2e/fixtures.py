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

The LiveStack API is in tests/e2e/live.py and tests/e2e/README.md. A plugin
(tests/conftest.py registers it) rather than tests/e2e's conftest: the suite's
own tests of these fixtures, in tests/suite, use them too.
"""

from pathlib import Path

import pytest

from tests.e2e.live import LiveStack, StackFactory, connect_engine, require_base_images

HERE = Path(__file__).resolve().parent


# tryfirst: before `-m` deselects by marks.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    # Everything under tests/e2e, and any test elsewhere that uses the engine,
    # needs the engine: `-m "not e2e"` must leave it all out.
    for item in items:
        needs_engine = HERE in Path(item.fspath).resolve().parents or (
            "docker_engine" in getattr(item, "fixturenames", ())
        )
        if needs_engine and not item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.e2e)


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
