"""The `swarm_cluster` fixture (session): a real Docker Swarm of three nodes
(testing/swarm/cluster.py), a manager and two workers, each a Docker engine in a
container of the host engine, with a registry on their private network and the
stack's base images loaded. Made once per session (about a minute), removed at
its end. Without an engine, the base images, or a node that can run here, the
test is skipped with the reason (a node's dockerd log included); under CI=true
it fails.

A plugin, registered by the conftest of each suite that uses it (tests/swarm,
tests/suite, tests/e2e), once for the session. A test
that uses the cluster carries the marks `e2e` and `swarm`: `-m "not swarm"`
leaves out only these.
"""

import pytest

from testing.swarm.cluster import SwarmCluster


# tryfirst: before `-m` deselects by marks.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        # `e2e` comes from testing/live/plugin.py: the cluster needs docker_engine.
        if "swarm_cluster" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
            "swarm"
        ):
            item.add_marker(pytest.mark.swarm)


@pytest.fixture(scope="session")
def swarm_cluster(request, docker_engine, stack_factory):
    # Under the session prefix: the factory's final sweep removes what a crash left.
    cluster = SwarmCluster.start(docker_engine, f"{stack_factory.prefix}swarm-")
    yield cluster
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
