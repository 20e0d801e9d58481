"""Fixtures for the tests on a real Docker Swarm of three nodes (tests/swarm/cluster.py).

- `swarm_cluster` (session): a manager and two workers, each a Docker engine in a
  container of the host engine, with a registry on their private network and the
  stack's base images loaded. Made once per session (about a minute), removed at
  its end. Without an engine, the base images, or a node that can run here, the
  test is skipped with the reason (a node's dockerd log included); under CI=true
  it fails.

Every test under tests/swarm carries the marks `e2e` (it needs the engine) and
`swarm` (it needs the cluster): `-m "not swarm"` leaves out only these.
"""

from pathlib import Path

import pytest

# The engine fixtures, shared with tests/e2e (skip without an engine, fail under CI=true).
from tests.e2e.conftest import docker_engine, stack_factory  # noqa: F401
from tests.swarm.cluster import SwarmCluster

HERE = Path(__file__).resolve().parent


# tryfirst: before `-m` deselects by marks.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            for mark in ("e2e", "swarm"):
                if not item.get_closest_marker(mark):
                    item.add_marker(getattr(pytest.mark, mark))


# One cluster per session however many conftests offer the fixture (tests/selftest
# imports it): each offer is a fixture of its own to pytest, and a second cluster
# would cost another minute. The last to let go closes it.
# A start that skipped or failed is not tried again in the session.
_shared: dict[str, object] = {"cluster": None, "users": 0, "error": None}


@pytest.fixture(scope="session")
def swarm_cluster(request, docker_engine, stack_factory):  # noqa: F811
    if _shared["error"] is not None:
        raise _shared["error"]
    if _shared["cluster"] is None:
        try:
            # Under the session prefix: the factory's final sweep removes what a crash left.
            _shared["cluster"] = SwarmCluster.start(docker_engine, f"{stack_factory.prefix}swarm-")
        except BaseException as error:
            _shared["error"] = error
            raise
    cluster = _shared["cluster"]
    _shared["users"] += 1
    yield cluster
    _shared["users"] -= 1
    if _shared["users"]:
        return
    _shared["cluster"] = None
    cluster.close()
    _report(request.config, cluster)


def _report(config, cluster: SwarmCluster) -> None:
    # What a cluster costs, for whoever weighs adding a test that needs one.
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    t = cluster.timings
    # Teardown output is captured, and shown only on failure, unless let through.
    with capture.global_and_fixture_disabled():
        reporter.write_line(
            f"swarm cluster: images {t.images_built:.1f}s, nodes {t.nodes_started:.1f}s, "
            f"swarm {t.swarm_formed:.1f}s, image loading {t.images_loaded:.1f}s, "
            f"start {t.total:.1f}s, teardown {t.closed:.1f}s"
        )
