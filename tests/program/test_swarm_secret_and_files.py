"""The swarm target under Pulumi's mock runtime: the password as a swarm secret,
the files the services need as swarm configs. One intent per test."""

import base64
from pathlib import Path

from infra.common import INITDB_SCRIPT, MIGRATIONS_DIR, PASSWORD_FILE, READER_SCRIPT_PATH
from infra.swarm import APP_SETTINGS_FILE
from tests.e2e.harness.schema import (
    SERVICE_CONFIG,
)
from tests.program.conftest import PASSWORD
from tests.program.swarm_run import (
    SERVICE_NAMES,
    decoded,
    mounted_configs,
    spec,
    walk_values_under,
)
from tests.support.program import (
    is_secret,
    plain_strings,
    unwrap_secrets,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


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
    told = (
        spec(declared_on_swarm, "db-postgres")["commands"],
        mounted_configs(declared_on_swarm, "app-flask")[APP_SETTINGS_FILE].splitlines(),
    )
    assert (
        f"POSTGRES_PASSWORD_FILE={PASSWORD_FILE}" in told[0],
        f"DATABASE_PASSWORD_FILE={PASSWORD_FILE}" in told[1],
    ) == (True, True)


def test_password_is_in_no_env_command_label_or_settings_file(declared_on_swarm):
    # Marked secret or not: `docker service inspect` shows these, `docker config
    # inspect` the settings file.
    found = [
        unwrap_secrets(value)
        for resource in declared_on_swarm.resources.values()
        for value in walk_values_under(resource.inputs, {"env", "commands", "labels"})
    ]
    found.append(mounted_configs(declared_on_swarm, "app-flask")[APP_SETTINGS_FILE])
    assert len(found) > 3 and not [v for v in found if PASSWORD in repr(v)]


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
    mounted = mounted_configs(declared_on_swarm, "app-flask")
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
            # On one host the app's settings are its environment.
            if block["fileName"] != APP_SETTINGS_FILE
        )
        for name in SERVICE_NAMES
    }
    assert on_swarm == on_host


# Durations, in the form the provider reads a service back.
