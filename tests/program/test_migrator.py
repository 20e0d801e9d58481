"""The migrator on one host: the step that backs up and migrates the database as its
owner, apart from the app, which holds only the API role's password."""

from infra.common import (
    API_PASSWORD_FILE,
    BACKUP_DIR,
    MIGRATIONS_DIR,
    PASSWORD_FILE,
    REPO_ROOT,
)
from testing.program import is_secret, unwrap_secrets
from tests.program.conftest import API_PASSWORD, PASSWORD, env_of


def uploaded(resource) -> dict[str, str]:
    return {u["file"]: u["content"] for u in unwrap_secrets(resource.inputs["uploads"])}


def test_the_migrator_is_a_container_of_the_app_image_named_db_migracoes(declared):
    migrator = declared.resources["db-migracoes"]
    app = declared.resources["app-flask"]
    assert (migrator.inputs["name"], migrator.inputs["image"]) == (
        "db-migracoes",
        app.inputs["image"],
    )


def test_the_migrator_runs_the_migrations_then_stays_idle(declared):
    script = declared.resources["db-migracoes"].inputs["entrypoints"][-1]
    assert "python -m desafio2.migrations || exit" in script and "sleep infinity" in script


def test_the_migrator_logs_in_as_the_owner(declared):
    env = env_of(declared.resources["db-migracoes"])
    assert (env["PGUSER"], env["DATABASE_PASSWORD_FILE"]) == ("usuario", PASSWORD_FILE)


def test_the_migrator_holds_both_passwords_as_secret_files(declared):
    migrator = declared.resources["db-migracoes"]
    files = uploaded(migrator)
    assert is_secret(migrator.inputs["uploads"])
    assert (files[PASSWORD_FILE], files[API_PASSWORD_FILE]) == (PASSWORD, API_PASSWORD)
    assert env_of(migrator)["API_DATABASE_PASSWORD_FILE"] == API_PASSWORD_FILE


def test_the_app_holds_the_api_roles_password_and_not_the_owners(declared):
    files = uploaded(declared.resources["app-flask"])
    assert files[API_PASSWORD_FILE] == API_PASSWORD and PASSWORD_FILE not in files


def test_the_migrator_gets_every_migration(declared):
    files = uploaded(declared.resources["db-migracoes"])
    assert {name: text for name, text in files.items() if name.startswith(MIGRATIONS_DIR)} == {
        f"{MIGRATIONS_DIR}/{path.name}": path.read_text(encoding="utf-8")
        for path in (REPO_ROOT / "db" / "migrations").glob("*.sql")
    }


def test_the_migrator_writes_its_backups_to_a_volume_of_their_own(declared):
    assert declared.resources["db-migracoes"].inputs["mounts"] == [
        {"type": "volume", "source": "dados_postgres_backups", "target": BACKUP_DIR}
    ]


def test_the_backups_volume_is_retained_by_destroy(declared):
    assert declared.resources["backups-postgres"].options.retain_on_delete is True


def test_the_migrator_starts_once_the_database_is_healthy(declared):
    assert declared.resources["db-migracoes"].options.depends_on == [declared.stack.db]


def test_up_waits_until_the_migrator_has_migrated(declared):
    migrator = declared.resources["db-migracoes"].inputs
    assert migrator["wait"] is True and migrator["healthcheck"]["tests"][:2] == ["CMD", "test"]


def test_the_migrator_is_not_on_the_network_under_any_alias(declared):
    (network,) = declared.resources["db-migracoes"].inputs["networksAdvanced"]
    assert not network.get("aliases")
