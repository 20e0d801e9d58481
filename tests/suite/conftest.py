"""The suite's tests of its own machinery use the stack fixtures and e2e hooks
(testing/live/plugin.py) and the `swarm_cluster` fixture (testing/swarm/plugin.py).
Each is registered once for the session, by whichever suite that uses it comes first."""


def pytest_configure(config):
    config.pluginmanager.import_plugin("testing.live.plugin")
    config.pluginmanager.import_plugin("testing.swarm.plugin")
