"""The e2e fixtures themselves (testing/live/plugin.py, testing/live/): a
stack's names are its own, never a user's, and `restore` undoes what a test
changed. Tests of the test suite, not of the product."""


def test_names_are_isolated_from_a_real_stack(live_stack):
    config = live_stack.config
    for key in (
        "networkName",
        "volumeName",
        "dbContainerName",
        "appContainerName",
        "readerContainerName",
        "appImageName",
    ):
        assert config[key].startswith(live_stack.prefix), key
    assert config.volume_name != "dados_postgres"
    assert config["appHostPort"] == config.app_host_port
    assert live_stack.volume().name == config.volume_name


def test_restore_brings_back_what_a_test_changed(live_stack):
    live_stack.container("reader").remove(force=True)
    live_stack.set_config(readerIntervalSeconds=7)
    live_stack.config["retainVolume"] = False  # the same, as a mapping
    assert (live_stack.config.reader_interval_seconds, live_stack.config.retain_volume) == (
        7,
        False,
    )
    live_stack.restore()
    assert live_stack.config["readerIntervalSeconds"] == 1
    assert live_stack.config["retainVolume"] is True
    reader = live_stack.container("reader")
    assert reader.status == "running"
    assert "READ_INTERVAL_SECONDS=1" in reader.attrs["Config"]["Env"]
