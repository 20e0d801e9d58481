"""The swarm target under Pulumi's mock runtime: each service is declared so that an
update sends Docker what it already holds for every part that did not change, and
restarts no task for nothing (infra/swarm.py says why): at most one environment
variable, the restart policy in full, the platforms ignored where a placement is
declared. The settings stay those of the host target. One intent per test."""

import re
from pathlib import Path

from desafio2 import settings
from infra.common import PASSWORD_FILE, READER_SCRIPT_PATH
from infra.swarm import APP_SETTINGS_FILE, APP_SETTINGS_VARIABLE, POSTGRES_COMMAND
from testing.swarm_run import SERVICE_NAMES, mounted_configs, services, spec

REPO_ROOT = Path(__file__).resolve().parents[2]


def host_env(declared, name: str) -> list[str]:
    return declared.resources[name].inputs["envs"]


def test_no_service_declares_more_than_one_environment_variable(declared_on_swarm):
    # The provider sends a map of two or more in a new order on every update.
    counts = {name: len(spec(declared_on_swarm, name).get("env") or {}) for name in SERVICE_NAMES}
    assert counts == {"db-postgres": 0, "db-migracoes": 1, "app-flask": 1, "leitor-dados": 0}


def test_database_settings_are_set_by_env_around_the_images_own_command(
    declared, declared_on_swarm
):
    assert spec(declared_on_swarm, "db-postgres")["commands"] == [
        "env",
        *host_env(declared, "db-postgres"),
        "docker-entrypoint.sh",
        "postgres",
    ]
    assert f"POSTGRES_PASSWORD_FILE={PASSWORD_FILE}" in host_env(declared, "db-postgres")


def test_database_command_is_the_entrypoint_and_cmd_of_the_image():
    # The stand-in's Dockerfile says what the official image's does.
    dockerfile = (REPO_ROOT / ".ci" / "images" / "postgres" / "Dockerfile").read_text()

    def instruction(name: str) -> list[str]:
        (found,) = re.findall(rf'^{name} \["([^\]]*)"\]$', dockerfile, re.MULTILINE)
        return found.split('", "')

    assert instruction("ENTRYPOINT") + instruction("CMD") == POSTGRES_COMMAND


def test_reader_settings_are_set_by_env_around_its_script(declared, declared_on_swarm):
    assert spec(declared_on_swarm, "leitor-dados")["commands"] == [
        "env",
        *host_env(declared, "leitor-dados"),
        "/bin/sh",
        READER_SCRIPT_PATH,
    ]


def test_app_variable_names_its_settings_file_mounted_as_a_config(declared_on_swarm):
    assert spec(declared_on_swarm, "app-flask")["env"] == {APP_SETTINGS_VARIABLE: APP_SETTINGS_FILE}
    assert APP_SETTINGS_FILE in mounted_configs(declared_on_swarm, "app-flask")


def test_the_app_reads_from_its_settings_file_the_environment_it_has_on_one_host(
    declared, declared_on_swarm, tmp_path
):
    path = tmp_path / "settings.env"
    path.write_text(mounted_configs(declared_on_swarm, "app-flask")[APP_SETTINGS_FILE])
    environ = {APP_SETTINGS_VARIABLE: str(path)}
    settings.apply_settings_file(environ)
    on_host = dict(line.split("=", 1) for line in host_env(declared, "app-flask"))
    assert environ == {APP_SETTINGS_VARIABLE: str(path), **on_host}


def test_every_service_declares_the_restart_policy_in_full(declared_on_swarm):
    # Docker's own defaults (any, 5 s, no limit), as the provider reads them back.
    policies = [s.inputs["taskSpec"]["restartPolicy"] for s in services(declared_on_swarm)]
    expected = {"condition": "any", "delay": "5s", "maxAttempts": 0, "window": "0s"}
    assert policies == [expected] * len(SERVICE_NAMES)


def test_services_that_declare_a_placement_ignore_the_platforms_docker_adds(declared_on_swarm):
    ignored = {s.name: s.options.ignore_changes for s in services(declared_on_swarm)}
    placed = {s.name for s in services(declared_on_swarm) if s.inputs["taskSpec"].get("placement")}
    assert placed == {"db-postgres", "db-migracoes", "app-flask"}
    assert ignored == {
        "db-postgres": ["taskSpec.placement.platforms"],
        "db-migracoes": ["taskSpec.placement.platforms"],
        "app-flask": ["taskSpec.placement.platforms"],
        "leitor-dados": None,
    }
