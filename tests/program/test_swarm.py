"""The swarm target (`target: swarm`) under Pulumi's mock runtime: services on an
overlay network, placement, updates, the app image pushed and used by digest,
outputs and config errors. One intent per test."""

from pathlib import Path

import pulumi
import pytest

from infra.config import ConfigError
from infra.swarm import short_duration
from testing.harness.schema import (
    CONTAINER,
    IMAGE,
    NETWORK,
    SECRET,
    SERVICE,
    SERVICE_CONFIG,
)
from testing.program import (
    run_program,
)
from testing.swarm_run import (
    REGISTRY,
    SERVICE_NAMES,
    run_swarm,
    services,
    spec,
)
from tests.program.conftest import PASSWORD, PASSWORDS

REPO_ROOT = Path(__file__).resolve().parents[2]

# The host target stays the default and unchanged.


def test_host_is_the_default_and_declares_no_swarm_resources(declared):
    swarm_types = {SERVICE, SECRET, SERVICE_CONFIG}
    assert [r.name for r in declared.resources.values() if r.type in swarm_types] == []


def test_swarm_declares_no_container(declared_on_swarm):
    assert declared_on_swarm.of_type(CONTAINER) == []


def test_swarm_declares_the_four_parts_as_services(declared_on_swarm):
    assert [s.name for s in services(declared_on_swarm)] == list(SERVICE_NAMES)


# The network and the volume.


def test_network_is_an_overlay(declared_on_swarm):
    network = declared_on_swarm.resources["rede"]
    assert (network.inputs["name"], network.inputs["driver"]) == ("rede-desafio2", "overlay")


def test_volume_is_dados_postgres_retained_by_destroy(declared_on_swarm):
    volume = declared_on_swarm.resources["dados-postgres"]
    assert (volume.inputs["name"], volume.options.retain_on_delete) == ("dados_postgres", True)


# The database service.


def test_database_runs_exactly_one_task(declared_on_swarm):
    mode = declared_on_swarm.resources["db-postgres"].inputs["mode"]
    assert mode == {"replicated": {"replicas": 1}}


def test_database_runs_on_the_node_labelled_for_it(declared_on_swarm):
    placement = declared_on_swarm.resources["db-postgres"].inputs["taskSpec"]["placement"]
    assert placement["constraints"] == ["node.labels.desafio2.db==true"]


def test_database_node_label_follows_db_node_label():
    run = run_swarm(dbNodeLabel="storage.ssd")
    placement = run.resources["db-postgres"].inputs["taskSpec"]["placement"]
    assert placement["constraints"] == ["node.labels.storage.ssd==true"]


def test_database_health_check_is_pg_isready_over_tcp(declared_on_swarm):
    tests = spec(declared_on_swarm, "db-postgres")["healthcheck"]["tests"]
    assert tests == ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "usuario", "-d", "aplicacao"]


def test_database_data_lives_on_the_volume(declared_on_swarm):
    assert spec(declared_on_swarm, "db-postgres")["mounts"] == [
        {"type": "volume", "source": "dados_postgres", "target": "/var/lib/postgresql/data"}
    ]


def test_database_update_stops_the_old_task_before_starting_the_new(declared_on_swarm):
    # Never two servers on one data directory.
    update = declared_on_swarm.resources["db-postgres"].inputs["updateConfig"]
    assert update["order"] == "stop-first"


# The app service.


def test_app_runs_two_tasks_by_default(declared_on_swarm):
    mode = declared_on_swarm.resources["app-flask"].inputs["mode"]
    assert mode == {"replicated": {"replicas": 2}}


def test_app_task_count_follows_app_replicas():
    run = run_swarm(appReplicas=3)
    assert run.resources["app-flask"].inputs["mode"]["replicated"]["replicas"] == 3


def test_app_runs_at_most_one_task_a_node(declared_on_swarm):
    placement = declared_on_swarm.resources["app-flask"].inputs["taskSpec"]["placement"]
    assert placement["maxReplicas"] == 1


def test_app_has_a_health_check_of_its_own(declared_on_swarm):
    tests = spec(declared_on_swarm, "app-flask")["healthcheck"]["tests"]
    assert tests == ["CMD", "python", "-I", "-S", "healthcheck.py"]


def test_app_update_starts_the_new_task_first_and_rolls_back_on_failure(declared_on_swarm):
    update = declared_on_swarm.resources["app-flask"].inputs["updateConfig"]
    assert (update["order"], update["failureAction"]) == ("start-first", "rollback")


def test_app_rollback_is_declared_and_keeps_the_app_up(declared_on_swarm):
    rollback = declared_on_swarm.resources["app-flask"].inputs.get("rollbackConfig")
    assert rollback and rollback["order"] == "start-first"


def test_app_publishes_its_port_in_host_mode_without_a_virtual_ip(declared_on_swarm):
    assert declared_on_swarm.resources["app-flask"].inputs["endpointSpec"] == {
        "mode": "dnsrr",
        "ports": [{"publishMode": "host", "publishedPort": 5000, "targetPort": 5000}],
    }


def test_app_published_port_follows_app_host_port():
    run = run_swarm(appHostPort=8080)
    (port,) = run.resources["app-flask"].inputs["endpointSpec"]["ports"]
    assert (port["publishedPort"], port["targetPort"]) == (8080, 5000)


def test_app_service_runs_the_pushed_image_by_digest(declared_on_swarm):
    image = declared_on_swarm.resources["app-image"]
    assert spec(declared_on_swarm, "app-flask")["image"] == image.outputs["repoDigest"]


def test_app_image_is_pushed(declared_on_swarm):
    assert declared_on_swarm.resources["app-image"].inputs["skipPush"] is False


def test_app_image_is_named_in_the_registry(declared_on_swarm):
    (image,) = declared_on_swarm.of_type(IMAGE)
    assert image.inputs["imageName"].startswith(f"{REGISTRY}/")


# Every service.


def test_every_service_is_found_by_dns_round_robin_not_a_virtual_ip(declared_on_swarm):
    modes = [s.inputs["endpointSpec"]["mode"] for s in services(declared_on_swarm)]
    assert modes == ["dnsrr"] * len(SERVICE_NAMES)


def test_no_port_is_published_on_the_ingress_routing_mesh(declared_on_swarm):
    # The provider's default publish mode is ingress: each port must say host.
    ports = [
        p for s in services(declared_on_swarm) for p in s.inputs["endpointSpec"].get("ports", [])
    ]
    assert ports and {p.get("publishMode") for p in ports} == {"host"}


def test_every_service_joins_the_network_by_its_id_not_its_name(declared_on_swarm):
    (network,) = declared_on_swarm.of_type(NETWORK)
    attached = [s.inputs["taskSpec"]["networksAdvanceds"] for s in services(declared_on_swarm)]
    assert [[(n.get("id"), n.get("name")) for n in nets] for nets in attached] == [
        [(network.id, None)]
    ] * len(SERVICE_NAMES)


def test_services_find_each_other_by_their_aliases(declared_on_swarm):
    aliases = {
        name: declared_on_swarm.resources[name]
        .inputs["taskSpec"]["networksAdvanceds"][0]
        .get("aliases")
        for name in SERVICE_NAMES
    }
    assert aliases == {
        "db-postgres": ["db"],
        "db-migracoes": None,
        "app-flask": ["app"],
        "leitor-dados": None,
    }


# The password.


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (5, "5s"),
        (90, "1m30s"),
        (120, "2m"),
        (3600, "1h"),
        (3660, "1h1m"),
        (3601, "1h0m1s"),
    ],
)
def test_short_duration_drops_trailing_zero_units(seconds, text):
    assert short_duration(seconds) == text


def test_health_check_start_period_is_in_the_short_form(declared_on_swarm):
    periods = [
        spec(declared_on_swarm, n)["healthcheck"]["startPeriod"]
        for n in ("db-postgres", "app-flask")
    ]
    assert periods == ["2m", "2m"]


# Outputs.


def test_outputs_are_the_urls_names_and_where_each_service_runs(declared_on_swarm):
    assert declared_on_swarm.outputs == {
        "url": "http://localhost:5000",
        "usuariosUrl": "http://localhost:5000/usuarios",
        "logsUrl": "http://localhost:5000/logs",
        "statusUrl": "http://localhost:5000/status",
        "volumeName": "dados_postgres",
        "backupVolumeName": "dados_postgres_backups",
        "networkName": "rede-desafio2",
        "dbService": "db-postgres",
        "migratorService": "db-migracoes",
        "appService": "app-flask",
        "readerService": "leitor-dados",
        "dbPlacement": "the node labelled desafio2.db=true (it holds dados_postgres)",
        "appPlacement": "2 nodes, one task each, answering on port 5000",
        "readerPlacement": "any node",
    }


def test_urls_follow_app_public_host_and_app_host_port():
    run = run_swarm(appPublicHost="app.example.com", appHostPort=8080)
    assert [run.outputs[k] for k in ("url", "usuariosUrl", "logsUrl", "statusUrl")] == [
        "http://app.example.com:8080",
        "http://app.example.com:8080/usuarios",
        "http://app.example.com:8080/logs",
        "http://app.example.com:8080/status",
    ]


def test_every_output_is_exported(monkeypatch):
    exported = {}
    export = pulumi.export

    def recording_export(name, value):
        exported[name] = value
        export(name, value)

    monkeypatch.setattr(pulumi, "export", recording_export)
    run = run_swarm()
    assert exported == run.stack.outputs


def test_no_output_holds_the_password(declared_on_swarm):
    assert PASSWORD not in repr(declared_on_swarm.outputs)


# Config the swarm target cannot use.


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"target": "kubernetes"}, "target"),
        ({"target": "swarm"}, "registry"),
        ({"target": "swarm", "registry": REGISTRY, "dbHostPort": 15432}, "dbHostPort"),
        ({"target": "swarm", "registry": "https://registry.example.com"}, "registry"),
        ({"target": "swarm", "registry": REGISTRY, "appReplicas": 0}, "appReplicas"),
    ],
    ids=["unknown-target", "no-registry", "db-port-published", "bad-registry", "no-app-task"],
)
def test_unusable_swarm_config_is_rejected_naming_the_key(config, key):
    with pytest.raises(ConfigError, match=f"config {key}="):
        run_program({**PASSWORDS, **config})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("appBindAddress", "0.0.0.0"),
        ("dbBindAddress", "10.0.0.5"),
        ("healthcheckStartIntervalSeconds", 1),
    ],
)
def test_a_host_only_setting_on_a_swarm_is_said_to_have_no_effect(monkeypatch, key, value):
    warnings = []
    monkeypatch.setattr(
        pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message)
    )
    run_swarm(**{key: value})
    assert [w for w in warnings if w.startswith(f"{key} has no effect on a swarm")] != []


def test_defaults_on_a_swarm_warn_about_nothing(monkeypatch):
    warnings = []
    monkeypatch.setattr(
        pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message)
    )
    run_swarm()
    assert warnings == []
