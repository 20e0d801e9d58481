"""The swarm target (`target: swarm`) under Pulumi's mock runtime: services on an
overlay network, the password as a swarm secret, files as swarm configs, the app
image pushed and used by digest. One intent per test."""

import base64
from pathlib import Path

import pulumi
import pytest

from infra.common import INITDB_SCRIPT, MIGRATIONS_DIR, PASSWORD_FILE, READER_SCRIPT_PATH
from infra.config import ConfigError
from infra.swarm import short_duration
from tests.e2e.harness.schema import (
    AUTONAMED,
    CONTAINER,
    IMAGE,
    NETWORK,
    SECRET,
    SERVICE,
    SERVICE_CONFIG,
)
from tests.program.conftest import PASSWORD
from tests.support.program import (
    ProgramRun,
    fake_outputs,
    is_secret,
    plain_strings,
    run_program,
    unwrap_secrets,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
REGISTRY = "registry.example.com:5000"
SWARM = {"dbPassword": PASSWORD, "target": "swarm", "registry": REGISTRY}
SERVICE_NAMES = ("db-postgres", "app-flask", "leitor-dados")


def autonamed_outputs(resource):
    """fake_outputs, plus the name the provider gives a Secret or ServiceConfig that the
    program leaves unnamed (its logical name, "-" and 7 random characters): the mock
    runtime does no auto-naming, and a service refers to these by ID and name."""
    resource_id, outputs = fake_outputs(resource)
    if resource.type in AUTONAMED and not outputs.get("name"):
        outputs["name"] = f"{resource.name}-5f0c2a9"
    return resource_id, outputs


def run_swarm(**config) -> ProgramRun:
    return run_program({**SWARM, **config}, provision=autonamed_outputs)


@pytest.fixture(scope="module")
def declared_on_swarm():
    """The swarm target with nothing else configured: what a first `make up` on a swarm gets."""
    return run_swarm()


def spec(run, service_name: str) -> dict:
    return run.resources[service_name].inputs["taskSpec"]["containerSpec"]


def services(run) -> list:
    return run.of_type(SERVICE)


def decoded(data: str) -> str:
    return base64.b64decode(data).decode("utf-8")


def mounted_configs(run, service_name: str) -> dict[str, str]:
    """File path -> content of the swarm configs a service's tasks get."""
    configs = {c.id: c for c in run.of_type(SERVICE_CONFIG)}
    return {
        block["fileName"]: decoded(configs[block["configId"]].inputs["data"])
        for block in spec(run, service_name).get("configs", [])
    }


def walk_values_under(value, keys: set[str]):
    """Every value held under a dict key in `keys`, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in keys:
                yield item
            yield from walk_values_under(item, keys)
    elif isinstance(value, list):
        for item in value:
            yield from walk_values_under(item, keys)


# The host target stays the default and unchanged.


def test_host_is_the_default_and_declares_no_swarm_resources(declared):
    swarm_types = {SERVICE, SECRET, SERVICE_CONFIG}
    assert [r.name for r in declared.resources.values() if r.type in swarm_types] == []


def test_swarm_declares_no_container(declared_on_swarm):
    assert declared_on_swarm.of_type(CONTAINER) == []


def test_swarm_declares_the_three_parts_as_services(declared_on_swarm):
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
    assert tests == ["CMD", "python", "healthcheck.py"]


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
    assert aliases == {"db-postgres": ["db"], "app-flask": ["app"], "leitor-dados": None}


def test_every_service_ignores_the_platforms_the_provider_adds_at_create(declared_on_swarm):
    ignored = [s.options.ignore_changes or [] for s in services(declared_on_swarm)]
    assert all("taskSpec.placement.platforms" in names for names in ignored)


# The password.


def test_password_secret_holds_the_password_base64_encoded(declared_on_swarm):
    data = declared_on_swarm.resources["db-password"].inputs["data"]
    assert decoded(unwrap_secrets(data)) == PASSWORD


def test_password_secret_data_is_marked_secret(declared_on_swarm):
    assert is_secret(declared_on_swarm.resources["db-password"].inputs["data"])


def test_database_and_app_read_the_password_from_a_secret_file(declared_on_swarm):
    secret = declared_on_swarm.resources["db-password"]
    expected = [
        {"secretId": secret.id, "secretName": secret.outputs["name"], "fileName": PASSWORD_FILE}
    ]
    mounted = {name: spec(declared_on_swarm, name).get("secrets") for name in SERVICE_NAMES}
    assert mounted == {"db-postgres": expected, "app-flask": expected, "leitor-dados": None}


def test_password_file_is_the_one_the_services_are_told_about(declared_on_swarm):
    env = {name: spec(declared_on_swarm, name)["env"] for name in ("db-postgres", "app-flask")}
    assert (
        env["db-postgres"]["POSTGRES_PASSWORD_FILE"],
        env["app-flask"]["DATABASE_PASSWORD_FILE"],
    ) == (PASSWORD_FILE, PASSWORD_FILE)


def test_password_is_in_no_env_or_label(declared_on_swarm):
    # Marked secret or not: `docker service inspect` shows env and labels.
    found = [
        unwrap_secrets(value)
        for resource in declared_on_swarm.resources.values()
        for value in walk_values_under(resource.inputs, {"env", "labels"})
    ]
    assert found and not [v for v in found if PASSWORD in repr(v)]


def test_password_is_in_no_input_unless_marked_secret(declared_on_swarm):
    hidden_forms = (PASSWORD, base64.b64encode(PASSWORD.encode()).decode())
    leaks = [
        name
        for name, resource in declared_on_swarm.resources.items()
        if any(form in text for text in plain_strings(resource.inputs) for form in hidden_forms)
    ]
    assert leaks == []
    # The walk must see the password where it does go, or it proves nothing.
    assert hidden_forms[1] in repr(declared_on_swarm.resources["db-password"].inputs)


# Files as swarm configs, at the paths the host stack uses.


def test_database_gets_init_sql_as_a_config_at_the_initdb_path(declared_on_swarm):
    assert mounted_configs(declared_on_swarm, "db-postgres") == {
        INITDB_SCRIPT: (REPO_ROOT / "db" / "init.sql").read_text(encoding="utf-8")
    }


def test_app_gets_every_migration_as_a_config_in_the_migrations_dir(declared_on_swarm):
    expected = {
        f"{MIGRATIONS_DIR}/{path.name}": path.read_text(encoding="utf-8")
        for path in (REPO_ROOT / "db" / "migrations").glob("*.sql")
    }
    assert mounted_configs(declared_on_swarm, "app-flask") == expected and len(expected) >= 4


def test_reader_gets_its_script_as_a_config(declared_on_swarm):
    script = (REPO_ROOT / "reader" / "leitor.sh").read_text(encoding="utf-8")
    assert mounted_configs(declared_on_swarm, "leitor-dados") == {READER_SCRIPT_PATH: script}


def test_reader_runs_the_script_where_its_config_is_mounted(declared_on_swarm):
    assert spec(declared_on_swarm, "leitor-dados")["commands"] == ["/bin/sh", READER_SCRIPT_PATH]


def test_configs_are_referenced_by_id_and_name(declared_on_swarm):
    configs = {c.id: c.outputs["name"] for c in declared_on_swarm.of_type(SERVICE_CONFIG)}
    blocks = [b for name in SERVICE_NAMES for b in spec(declared_on_swarm, name).get("configs", [])]
    assert len(blocks) == len(configs) and all(
        configs[b["configId"]] == b["configName"] for b in blocks
    )


def test_files_reach_the_services_at_the_paths_the_host_stack_uploads_them_to(
    declared, declared_on_swarm
):
    on_host = {
        name: sorted(u["file"] for u in unwrap_secrets(declared.resources[name].inputs["uploads"]))
        for name in SERVICE_NAMES
    }
    on_swarm = {
        name: sorted(
            block["fileName"]
            for key in ("secrets", "configs")
            for block in spec(declared_on_swarm, name).get(key, [])
        )
        for name in SERVICE_NAMES
    }
    assert on_swarm == on_host


# Durations, in the form the provider reads a service back.


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
        "networkName": "rede-desafio2",
        "dbService": "db-postgres",
        "appService": "app-flask",
        "readerService": "leitor-dados",
        "dbNodes": "the node labelled desafio2.db=true (it holds dados_postgres)",
        "appNodes": "2 nodes, one task each, answering on port 5000",
        "readerNodes": "any node",
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
        run_program({"dbPassword": PASSWORD, **config})
