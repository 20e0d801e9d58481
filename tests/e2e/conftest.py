"""The e2e suite runs the declared stack on a real Docker engine: it registers the
stack fixtures and the e2e hooks (testing/live/plugin.py: the marks, the header that
names the engine) and the swarm fixture one of its tests uses (testing/swarm/plugin.py).
Each is registered once for the session, by whichever suite that uses it comes first."""


def pytest_configure(config):
    config.pluginmanager.import_plugin("testing.live.plugin")
    config.pluginmanager.import_plugin("testing.swarm.plugin")
