"""What the program declares with its defaults: one intent per test."""

from pathlib import Path

import pytest

from infra.common import API_PASSWORD_FILE, INIT_SQL, MIGRATIONS_DIR, PASSWORD_FILE, READER_SCRIPT
from testing.harness.schema import CONTAINER
from testing.program import is_secret, run_program, unwrap_secrets
from tests.program.conftest import PASSWORD, PASSWORDS, env_of

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_declares_exactly_the_stack(declared):
    types = sorted(r.type.split(":")[-1] for r in declared.resources.values())
    assert (
        types
        == ["Container"] * 4 + ["Image", "Network", "RemoteImage", "RemoteImage"] + ["Volume"] * 2
    )


def test_network_is_a_named_bridge(declared):
    network = declared.resources["rede"]
    assert (network.inputs["name"], network.inputs["driver"]) == ("rede-desafio2", "bridge")


def test_volume_is_dados_postgres(declared):
    assert declared.resources["dados-postgres"].inputs["name"] == "dados_postgres"


def test_volume_is_retained_by_destroy(declared):
    assert declared.resources["dados-postgres"].options.retain_on_delete is True


def test_volume_is_not_protected_so_plain_destroy_succeeds(declared):
    assert not declared.resources["dados-postgres"].options.protect


def test_volume_replacement_is_guarded_by_ignoring_changes_that_force_it(declared):
    assert set(declared.resources["dados-postgres"].options.ignore_changes) >= {"name", "driver"}


def test_retain_switch_off_lets_destroy_delete_the_volume():
    run = run_program({**PASSWORDS, "retainVolume": False})
    assert run.resources["dados-postgres"].options.retain_on_delete is False


def test_database_image_is_postgres_15_alpine_kept_locally(declared):
    image = declared.resources["postgres-image"]
    assert (image.inputs["name"], image.inputs["keepLocally"]) == ("postgres:15-alpine", True)


def test_database_container_uses_the_image_id_not_the_tag(declared):
    db = declared.resources["db-postgres"]
    assert db.inputs["image"] == declared.resources["postgres-image"].outputs["imageId"]


def test_database_container_is_named_db_postgres(declared):
    assert declared.resources["db-postgres"].inputs["name"] == "db-postgres"


def test_database_data_lives_on_the_volume(declared):
    assert declared.resources["db-postgres"].inputs["mounts"] == [
        {"type": "volume", "source": "dados_postgres", "target": "/var/lib/postgresql/data"}
    ]


def test_database_user_and_name(declared):
    env = env_of(declared.resources["db-postgres"])
    assert (env["POSTGRES_USER"], env["POSTGRES_DB"]) == ("usuario", "aplicacao")


def test_database_password_comes_from_a_file_not_the_environment(declared):
    env = env_of(declared.resources["db-postgres"])
    assert (
        "POSTGRES_PASSWORD" not in env
        and env["POSTGRES_PASSWORD_FILE"] == "/run/secrets/db_password"
    )


def test_database_password_file_is_uploaded_as_a_secret(declared):
    uploads = declared.resources["db-postgres"].inputs["uploads"]
    password_file = next(u for u in unwrap_secrets(uploads) if u["file"] == PASSWORD_FILE)
    assert is_secret(uploads) and password_file["content"] == PASSWORD


def test_database_is_initialised_from_db_init_sql(declared):
    uploads = unwrap_secrets(declared.resources["db-postgres"].inputs["uploads"])
    init = next(u for u in uploads if u["file"].startswith("/docker-entrypoint-initdb.d/"))
    assert (
        init["content"] == (REPO_ROOT / "db" / "init.sql").read_text(encoding="utf-8") == INIT_SQL
    )


def test_app_gets_every_migration_and_where_they_are(declared):
    app = declared.resources["app-flask"]
    uploads = unwrap_secrets(app.inputs["uploads"])
    uploaded = {u["file"]: u["content"] for u in uploads if u["file"].startswith(MIGRATIONS_DIR)}
    expected = {
        f"{MIGRATIONS_DIR}/{path.name}": path.read_text(encoding="utf-8")
        for path in (REPO_ROOT / "db" / "migrations").glob("*.sql")
    }
    assert uploaded == expected and len(expected) >= 4
    assert env_of(app)["MIGRATIONS_DIR"] == MIGRATIONS_DIR


def test_database_health_check_is_pg_isready_over_tcp(declared):
    tests = declared.resources["db-postgres"].inputs["healthcheck"]["tests"]
    assert tests == ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "usuario", "-d", "aplicacao"]


def test_database_is_reachable_by_its_alias_on_the_stack_network(declared):
    assert declared.resources["db-postgres"].inputs["networksAdvanced"] == [
        {"name": "rede-desafio2", "aliases": ["db"]}
    ]


def test_database_port_is_not_published_by_default(declared):
    assert not declared.resources["db-postgres"].inputs.get("ports")


def test_database_port_can_be_published_on_loopback():
    run = run_program({**PASSWORDS, "dbHostPort": 15432})
    assert run.resources["db-postgres"].inputs["ports"] == [
        {"internal": 5432, "external": 15432, "ip": "127.0.0.1"}
    ]


def test_database_create_waits_until_healthy(declared):
    assert declared.resources["db-postgres"].inputs["wait"] is True


def test_app_image_is_built_from_app_with_relative_paths(declared):
    build = declared.resources["app-image"].inputs["build"]
    assert (build["context"], build["dockerfile"]) == ("app", "app/Dockerfile")


def test_app_image_is_not_pushed(declared):
    assert declared.resources["app-image"].inputs["skipPush"] is True


def test_app_container_uses_the_built_image_id(declared):
    app = declared.resources["app-flask"]
    assert app.inputs["image"] == declared.resources["app-image"].outputs["repoDigest"]


def test_app_container_is_named_app_flask(declared):
    assert declared.resources["app-flask"].inputs["name"] == "app-flask"


def test_app_is_published_on_loopback_port_5000(declared):
    assert declared.resources["app-flask"].inputs["ports"] == [
        {"internal": 5000, "external": 5000, "ip": "127.0.0.1"}
    ]


def test_app_port_and_bind_address_are_configurable():
    run = run_program({**PASSWORDS, "appHostPort": 8080, "appBindAddress": "0.0.0.0"})
    port = run.resources["app-flask"].inputs["ports"][0]
    assert (port["external"], port["ip"]) == (8080, "0.0.0.0")


def test_app_starts_only_after_the_migrator_has_migrated(declared):
    assert declared.resources["app-flask"].options.depends_on == [declared.stack.migrator]


def test_app_reaches_the_database_by_its_alias(declared):
    env = env_of(declared.resources["app-flask"])
    assert (env["PGHOST"], env["PGUSER"], env["PGDATABASE"]) == ("db", "api", "aplicacao")


def test_app_reads_the_api_roles_password_from_a_file(declared):
    env = env_of(declared.resources["app-flask"])
    assert env["DATABASE_PASSWORD_FILE"] == API_PASSWORD_FILE and "PGPASSWORD" not in env


def test_app_has_a_health_check_of_its_own(declared):
    assert declared.resources["app-flask"].inputs["healthcheck"]["tests"] == [
        "CMD",
        "python",
        "-I",
        "-S",
        "healthcheck.py",
    ]


def test_app_create_waits_until_healthy(declared):
    assert declared.resources["app-flask"].inputs["wait"] is True


def test_reader_image_is_curl_8_4_0(declared):
    assert declared.resources["curl-image"].inputs["name"] == "curlimages/curl:8.4.0"


def test_reader_container_uses_the_image_id(declared):
    reader = declared.resources["leitor-dados"]
    assert reader.inputs["image"] == declared.resources["curl-image"].outputs["imageId"]


def test_reader_runs_the_leitor_script(declared):
    reader = declared.resources["leitor-dados"]
    (upload,) = reader.inputs["uploads"]
    assert reader.inputs["entrypoints"] == ["/bin/sh", upload["file"]]
    assert upload["content"] == READER_SCRIPT


def test_reader_polls_the_app_over_the_stack_network(declared):
    env = env_of(declared.resources["leitor-dados"])
    assert (env["API_URL"], env["READ_INTERVAL_SECONDS"]) == ("http://app:5000", "10")


def test_reader_starts_after_the_app(declared):
    assert declared.resources["leitor-dados"].options.depends_on == [declared.stack.app]


def test_every_container_restarts_unless_stopped(declared):
    assert {c.inputs["restart"] for c in declared.of_type(CONTAINER)} == {"unless-stopped"}


def test_every_container_logs_to_the_rotating_local_driver_without_options(declared):
    # Log options would be merged with the daemon's and read back: a replacement per up.
    assert [
        (c.inputs["logDriver"], c.inputs.get("logOpts")) for c in declared.of_type(CONTAINER)
    ] == [("local", None)] * 4


def test_health_check_durations_are_written_as_the_provider_reads_them_back(declared):
    healthcheck = declared.resources["db-postgres"].inputs["healthcheck"]
    assert (healthcheck["interval"], healthcheck["startPeriod"], healthcheck["timeout"]) == (
        "1s",
        "2m0s",
        "3s",
    )


@pytest.mark.parametrize(("interval", "retries"), [(1, 25), (2, 13), (5, 5)])
def test_a_container_is_unhealthy_after_the_same_25_s_of_failures_whatever_the_interval(
    interval, retries
):
    run = run_program({**PASSWORDS, "healthcheckIntervalSeconds": interval})
    checks = [run.resources[n].inputs["healthcheck"] for n in ("db-postgres", "app-flask")]
    assert [(c["interval"], c["retries"]) for c in checks] == [(f"{interval}s", retries)] * 2


def test_no_health_check_has_a_start_interval_by_default_so_docker_20_10_works(declared):
    checked = [declared.resources[n].inputs["healthcheck"] for n in ("db-postgres", "app-flask")]
    assert [c.get("startInterval") for c in checked] == [None, None]


def test_a_start_interval_is_declared_only_when_configured():
    run = run_program({**PASSWORDS, "healthcheckStartIntervalSeconds": 1})
    assert run.resources["db-postgres"].inputs["healthcheck"]["startInterval"] == "1s"


def test_a_health_check_change_replaces_the_container_old_one_first(declared):
    options = [declared.resources[n].options for n in ("db-postgres", "app-flask")]
    assert [(o.replace_on_changes, o.delete_before_replace) for o in options] == [
        (["healthcheck"], True)
    ] * 2


def test_volume_labels_read_back_from_docker_never_replace_it(declared):
    assert "labels" in declared.resources["dados-postgres"].options.ignore_changes


def test_the_image_is_built_by_buildkit_which_leaves_no_build_container(declared):
    assert declared.resources["app-image"].inputs["build"]["builderVersion"] == "BuilderBuildKit"


def test_no_input_holds_a_machine_specific_path(declared):
    assert str(REPO_ROOT) not in repr([r.inputs for r in declared.resources.values()])


def test_a_second_run_declares_identical_inputs_so_up_replaces_nothing(declared):
    again = run_program(PASSWORDS)
    assert {n: r.inputs for n, r in again.resources.items()} == {
        n: r.inputs for n, r in declared.resources.items()
    }


def test_every_name_is_configurable():
    names = {
        "networkName": "n1",
        "volumeName": "v1",
        "dbContainerName": "d1",
        "appContainerName": "a1",
        "readerContainerName": "r1",
    }
    run = run_program({**PASSWORDS, **names})
    assert [
        run.outputs[k]
        for k in ("networkName", "volumeName", "dbContainer", "appContainer", "readerContainer")
    ] == list(names.values())


def test_destroy_stops_the_database_cleanly_instead_of_killing_it(declared):
    assert declared.resources["db-postgres"].inputs["destroyGraceSeconds"] >= 10
