"""The swarm target under Pulumi's mock runtime: the password as a swarm secret,
the files the services need as swarm configs. One intent per test."""

import base64
from pathlib import Path

import pytest

from infra.common import (
    API_PASSWORD_FILE,
    INITDB_SCRIPT,
    MIGRATIONS_DIR,
    PASSWORD_FILE,
    READER_SCRIPT_PATH,
)
from infra.swarm import APP_SETTINGS_FILE
from testing.harness.schema import (
    SERVICE_CONFIG,
)
from testing.program import (
    is_secret,
    plain_strings,
    unwrap_secrets,
)
from testing.swarm_run import (
    SERVICE_NAMES,
    decoded,
    mounted_configs,
    spec,
    walk_values_under,
)
from tests.program.conftest import API_PASSWORD, PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_password_secret_holds_the_password_base64_encoded(declared_on_swarm):
    data = declared_on_swarm.resources["db-password"].inputs["data"]
    assert decoded(unwrap_secrets(data)) == PASSWORD


def test_password_secret_data_is_marked_secret(declared_on_swarm):
    assert is_secret(declared_on_swarm.resources["db-password"].inputs["data"])


def test_the_api_password_secret_holds_the_api_roles_password(declared_on_swarm):
    data = declared_on_swarm.resources["db-api-password"].inputs["data"]
    assert is_secret(data) and decoded(unwrap_secrets(data)) == API_PASSWORD


def test_each_service_holds_only_its_own_passwords_as_secret_files(declared_on_swarm):
    def mounted(resource_name: str, path: str) -> dict:
        secret = declared_on_swarm.resources[resource_name]
        return {"secretId": secret.id, "secretName": secret.outputs["name"], "fileName": path}

    owner = mounted("db-password", PASSWORD_FILE)
    api = mounted("db-api-password", API_PASSWORD_FILE)
    found = {name: spec(declared_on_swarm, name).get("secrets") for name in SERVICE_NAMES}
    assert found == {
        "db-postgres": [owner],
        "db-migracoes": [owner, api],
        "app-flask": [api],
        "leitor-dados": None,
    }


def test_password_files_are_the_ones_the_services_are_told_about(declared_on_swarm):
    def settings(name: str) -> list[str]:
        return mounted_configs(declared_on_swarm, name)[APP_SETTINGS_FILE].splitlines()

    told = (
        spec(declared_on_swarm, "db-postgres")["commands"],
        settings("db-migracoes"),
        settings("app-flask"),
    )
    assert (
        f"POSTGRES_PASSWORD_FILE={PASSWORD_FILE}" in told[0],
        {
            f"DATABASE_PASSWORD_FILE={PASSWORD_FILE}",
            f"API_DATABASE_PASSWORD_FILE={API_PASSWORD_FILE}",
        }
        <= set(told[1]),
        f"DATABASE_PASSWORD_FILE={API_PASSWORD_FILE}" in told[2],
    ) == (True, True, True)


def test_password_is_in_no_env_command_label_or_settings_file(declared_on_swarm):
    # Marked secret or not: `docker service inspect` shows these, `docker config
    # inspect` the settings file.
    found = [
        unwrap_secrets(value)
        for resource in declared_on_swarm.resources.values()
        for value in walk_values_under(resource.inputs, {"env", "commands", "labels"})
    ]
    for name in ("db-migracoes", "app-flask"):
        found.append(mounted_configs(declared_on_swarm, name)[APP_SETTINGS_FILE])
    leaks = [v for v in found for p in (PASSWORD, API_PASSWORD) if p in repr(v)]
    assert len(found) > 3 and not leaks


@pytest.mark.parametrize(
    ("password", "secret"), [(PASSWORD, "db-password"), (API_PASSWORD, "db-api-password")]
)
def test_a_password_is_in_no_input_unless_marked_secret(declared_on_swarm, password, secret):
    hidden_forms = (password, base64.b64encode(password.encode()).decode())
    leaks = [
        name
        for name, resource in declared_on_swarm.resources.items()
        if any(form in text for text in plain_strings(resource.inputs) for form in hidden_forms)
    ]
    assert leaks == []
    # The walk must see the password where it does go, or it proves nothing.
    assert hidden_forms[1] in repr(declared_on_swarm.resources[secret].inputs)


# Files as swarm configs, at the paths the host stack uses.


def test_database_gets_init_sql_as_a_config_at_the_initdb_path(declared_on_swarm):
    assert mounted_configs(declared_on_swarm, "db-postgres") == {
        INITDB_SCRIPT: (REPO_ROOT / "db" / "init.sql").read_text(encoding="utf-8")
    }


@pytest.mark.parametrize("service", ["db-migracoes", "app-flask"])
def test_every_migration_is_a_config_in_the_migrations_dir(declared_on_swarm, service):
    expected = {
        f"{MIGRATIONS_DIR}/{path.name}": path.read_text(encoding="utf-8")
        for path in (REPO_ROOT / "db" / "migrations").glob("*.sql")
    }
    mounted = mounted_configs(declared_on_swarm, service)
    migrations = {path: text for path, text in mounted.items() if path != APP_SETTINGS_FILE}
    assert migrations == expected and len(expected) >= 4


def test_reader_gets_its_script_as_a_config(declared_on_swarm):
    script = (REPO_ROOT / "reader" / "leitor.sh").read_text(encoding="utf-8")
    assert mounted_configs(declared_on_swarm, "leitor-dados") == {READER_SCRIPT_PATH: script}


def test_reader_runs_the_script_where_its_config_is_mounted(declared_on_swarm):
    command = spec(declared_on_swarm, "leitor-dados")["commands"]
    assert command[-2:] == ["/bin/sh", READER_SCRIPT_PATH]


def test_configs_are_referenced_by_id_and_name(declared_on_swarm):
    configs = {c.id: c.outputs["name"] for c in declared_on_swarm.of_type(SERVICE_CONFIG)}
    blocks = [b for name in SERVICE_NAMES for b in spec(declared_on_swarm, name).get("configs", [])]
    # The migrations are mounted in two services, each config once in each.
    assert {b["configId"] for b in blocks} == set(configs) and all(
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
            # On one host the app's settings are its environment.
            if block["fileName"] != APP_SETTINGS_FILE
        )
        for name in SERVICE_NAMES
    }
    assert on_swarm == on_host


# Durations, in the form the provider reads a service back.
