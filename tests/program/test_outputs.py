"""The stack outputs a user reads with `pulumi stack output`."""

from testing.program import run_program
from tests.program.conftest import PASSWORDS


def test_outputs_are_the_urls_and_names(declared):
    assert declared.outputs == {
        "url": "http://127.0.0.1:5000",
        "usuariosUrl": "http://127.0.0.1:5000/usuarios",
        "logsUrl": "http://127.0.0.1:5000/logs",
        "statusUrl": "http://127.0.0.1:5000/status",
        "volumeName": "dados_postgres",
        "backupVolumeName": "dados_postgres_backups",
        "networkName": "rede-desafio2",
        "dbContainer": "db-postgres",
        "migratorContainer": "db-migracoes",
        "appContainer": "app-flask",
        "readerContainer": "leitor-dados",
    }


def test_url_on_all_interfaces_points_at_localhost():
    run = run_program({**PASSWORDS, "appBindAddress": "0.0.0.0", "appHostPort": 8080})
    assert run.outputs["url"] == "http://localhost:8080"


def test_no_output_holds_a_password(declared):
    assert not [p for p in PASSWORDS.values() if p in repr(declared.outputs)]
