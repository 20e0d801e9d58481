"""The benchmarks' smoke tests use the `docker_engine` fixture and the e2e hooks
(testing/live/plugin.py), registered once for the session by whichever suite that
uses them comes first."""


def pytest_configure(config):
    config.pluginmanager.import_plugin("testing.live.plugin")
