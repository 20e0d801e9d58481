"""scripts/stack_names.py: what `make up`'s verdict and the everyday commands look
for in Docker is what the program names, read from the stack's config file."""

import subprocess
import sys

from infra.common import REPO_ROOT
from infra.settings import SECRETS
from testing.harness import CONTAINER, SERVICE
from testing.program import run_program

SCRIPT = REPO_ROOT / "scripts" / "stack_names.py"


def names_from(tmp_path, config: str) -> dict[str, str]:
    stack_file = tmp_path / "Pulumi.names.yaml"
    stack_file.write_text(config, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(stack_file)], capture_output=True, text=True, check=True
    )
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def declared_names(type_token: str, **config) -> list[str]:
    run = run_program({**dict.fromkeys(SECRETS, "x"), **config})
    return [r.inputs["name"] for r in run.of_type(type_token)]


def test_on_one_host_the_containers_are_named_as_the_program_names_them(tmp_path):
    names = names_from(tmp_path, "config:\n  desafio2:appContainerName: outro-app\n")
    roles = ("dbContainer", "migratorContainer", "appContainer", "readerContainer")
    assert [names[k] for k in roles] == (declared_names(CONTAINER, appContainerName="outro-app"))
    assert (names["volumeName"], names["backupVolumeName"], names["networkName"]) == (
        "dados_postgres",
        "dados_postgres_backups",
        "rede-desafio2",
    )


def test_on_a_swarm_the_services_are(tmp_path):
    config = "config:\n  desafio2:target: swarm\n  desafio2:registry: r.example:5000\n"
    names = names_from(tmp_path, config)
    roles = ("dbService", "migratorService", "appService", "readerService")
    assert [names[k] for k in roles] == declared_names(
        SERVICE, target="swarm", registry="r.example:5000"
    )


def test_naming_the_stack_does_not_load_pulumi(tmp_path):
    # Every `make up` and everyday command runs the script: loading the Pulumi SDK
    # would add a third to a half of a second to each.
    stack_file = tmp_path / "Pulumi.names.yaml"
    stack_file.write_text("config: {}\n", encoding="utf-8")
    probe = (
        "import runpy, sys; sys.argv = ['stack_names.py', sys.argv[1]]; "
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe, str(stack_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = {line.split("|")[-1].strip() for line in done.stderr.splitlines()}
    assert "pulumi" not in loaded
