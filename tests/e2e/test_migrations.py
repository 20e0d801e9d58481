"""Volumes that already hold data, pointed at by this stack, on a real engine: the
original docker compose project's and this stack's from before the API's role.
`up` migrates them and every row stays, or, when a migration cannot apply, `up`
fails saying why and the database stays exactly as it was."""

import re
import subprocess
from pathlib import Path

import pytest
import requests

from desafio2 import migrations
from testing.live import StackError, wait_until
from testing.postgres_container import INITDB_DIR, tar_of
from testing.schema import SCHEMA_FACTS

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
ORIGINAL_INIT_SQL = REPO_ROOT / "db" / "migrations" / "0001_esquema_original.sql"
# What the original project's users added through its API, and one deleted.
BY_HAND = """
    INSERT INTO usuarios (nome, email) VALUES
        ('Ana Costa', 'ana.costa@example.com'),
        ('Bruno Dias', 'bruno@example.com'),
        ('Carla Souza', 'Carla.Souza@Example.com');
    DELETE FROM usuarios WHERE email = 'bruno@example.com';
    INSERT INTO logs (acao, mensagem, usuario_id) VALUES ('usuario_criado', 'Ana Costa', 4);
"""
EVERY_ROW = """
    SELECT 'usuarios', id, nome, email, extract(epoch FROM data_criacao) FROM usuarios
    UNION ALL
    SELECT 'logs', id, acao, mensagem, extract(epoch FROM data_criacao) FROM logs
    ORDER BY 1, 2
"""
COUNTS = "SELECT (SELECT count(*) FROM usuarios) || ' ' || (SELECT count(*) FROM logs)"


# This stack's schema before the API's role: 0001-0004 applied by the app's runner and
# recorded in its own table (desafio2.migrations), in one transaction as it applies
# them (0004 locks its tables).
_UP_TO_0004 = migrations.load()[:4]
MIGRATED_UP_TO_0004 = (
    "BEGIN;\n"
    + "".join(f"{m.sql};\n" for m in _UP_TO_0004)
    + f"{migrations.TRACKING_TABLE};\n"
    + "".join(
        f"INSERT INTO schema_migrations (version, name, baseline) "
        f"VALUES ({m.version}, '{m.name}', false);\n"
        for m in _UP_TO_0004
    )
    + "COMMIT;\n"
)


def original_project_volume(stack, extra_sql: str = "") -> list[str]:
    """The stack's volume as the original project leaves it: its postgres image, its
    init.sql (0001), then users added by hand; the container is gone, the volume stays.
    Returns every row (EVERY_ROW) as it left them."""
    return volume_holding(stack, ORIGINAL_INIT_SQL.read_text(encoding="utf-8"), extra_sql)


def volume_holding(stack, init_sql: str, extra_sql: str = "") -> list[str]:
    """The stack's volume initialised by the postgres image with init_sql, then the rows
    added by hand (BY_HAND, extra_sql); returns every row (EVERY_ROW)."""
    config = stack.config
    container = stack.docker.containers.create(
        config.db_image,
        name=f"{stack.prefix}original-db",
        environment={
            "POSTGRES_USER": config.db_user,
            "POSTGRES_DB": config.db_name,
            "POSTGRES_PASSWORD": config["dbPassword"],
        },
        volumes={config.volume_name: {"bind": "/var/lib/postgresql/data", "mode": "rw"}},
    )
    try:
        # Before its first start, as compose mounts it: the entrypoint runs it on the empty volume.
        container.put_archive("/", tar_of({f"{INITDB_DIR}/init.sql": (init_sql, 0o644)}))
        container.start()
        psql = ["psql", "-v", "ON_ERROR_STOP=1", "-At", "-h", "127.0.0.1", "-U", config.db_user]
        psql += ["-d", config.db_name, "-c"]
        # Over TCP: the server listens there only once init.sql has run.
        wait_until(
            lambda: container.exec_run([*psql, "SELECT 1 FROM usuarios LIMIT 1"]).exit_code == 0,
            timeout=60,
            what="the original project's database to be initialised",
        )
        result = container.exec_run([*psql, BY_HAND + extra_sql])
        assert result.exit_code == 0, result.output.decode()
        return container.exec_run([*psql, EVERY_ROW]).output.decode().splitlines()
    finally:
        container.stop(timeout=30)
        container.remove()


def script(stack, name: str, *args: str, backups: Path) -> subprocess.CompletedProcess:
    """One of scripts/, on this stack's containers, as `make up` / `make restore` run it."""
    return stack.run_script(name, *args, BACKUP_DIR=str(backups))


def test_up_adopts_an_original_project_volume_with_every_row(make_stack, live_stack, tmp_path):
    stack = make_stack(up=False)
    rows_before = original_project_volume(stack)
    stack.up()
    stack.wait_for("/status")
    # Same ids, names, emails and instants: the rows the original project left.
    rows_after = [row for row in stack.psql(EVERY_ROW).splitlines() if "app_iniciada" not in row]
    assert rows_after == rows_before
    assert [r.split("|")[:4] for r in rows_before if r.startswith("usuarios")] == [
        ["usuarios", "1", "João Silva", "joao@example.com"],
        ["usuarios", "2", "Maria Santos", "maria@example.com"],
        ["usuarios", "3", "Pedro Oliveira", "pedro@example.com"],
        ["usuarios", "4", "Ana Costa", "ana.costa@example.com"],
        ["usuarios", "6", "Carla Souza", "Carla.Souza@Example.com"],
    ]
    usuarios = stack.get("/usuarios").json()
    assert [(u["id"], u["email"]) for u in usuarios] == [
        (1, "joao@example.com"),
        (2, "maria@example.com"),
        (3, "pedro@example.com"),
        (4, "ana.costa@example.com"),
        (6, "Carla.Souza@Example.com"),
    ]
    assert stack.get("/").status_code == 200
    assert stack.get("/logs").status_code == 200

    created = stack.post("/usuarios", json={"nome": "Davi", "email": "davi@example.com"})
    assert created.status_code == 201, created.text
    assert created.json()["id"] == 7
    duplicate = stack.post("/usuarios", json={"nome": "Ana", "email": "ANA.COSTA@EXAMPLE.COM"})
    assert duplicate.status_code == 409, duplicate.text

    # Exact counts once the app's start record is in (it is written a moment after start).
    wait_until(
        lambda: "app_iniciada" in stack.psql("SELECT string_agg(acao, ' ') FROM logs"),
        timeout=30,
        what="the app's start record",
    )
    status = stack.get("/status").json()
    assert f"{status['usuarios']} {status['logs']}" == stack.psql(COUNTS)

    # What `make up` prints after the up: the migrations, and the backup taken before them.
    report = script(stack, "migration-report.sh", backups=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "migrations: applied 0004_contagens" in report.stdout
    dump = Path(re.search(r"backed up the database: (\S+\.dump)$", report.stdout, re.M)[1])
    assert dump.parent == tmp_path and "-before-0002_" in dump.name
    assert oct(dump.stat().st_mode & 0o777) == "0o600"
    assert f"make restore FILE={dump} YES=1" in report.stdout
    again = script(stack, "migration-report.sh", backups=tmp_path).stdout
    assert "backed up the database" not in again, "a backup already copied is announced once"

    # The same schema as a volume the stack started empty.
    assert stack.psql(SCHEMA_FACTS) == live_stack.psql(SCHEMA_FACTS)

    # Going back as the report says: the rows as they were (Davi is gone), migrated again.
    # restore.sh runs the migrator again, which migrates the restored rows: the app
    # serves them at once.
    restored = script(stack, "restore.sh", "--yes", str(dump), backups=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "Migrated: the schema is current." in restored.stdout
    assert [u["id"] for u in stack.get("/usuarios").json()] == [1, 2, 3, 4, 6]
    assert (
        stack.post("/usuarios", json={"nome": "Eva", "email": "eva@example.com"}).status_code == 201
    )
    assert stack.psql(SCHEMA_FACTS) == live_stack.psql(SCHEMA_FACTS)
    assert stack.psql(
        "SELECT string_agg(version || ':' || baseline, ' ' ORDER BY version) FROM schema_migrations"
    ) == ("1:true 2:false 3:false 4:false 5:false")


def test_up_upgrades_a_volume_of_this_stack_from_before_the_api_role(make_stack, live_stack):
    stack = make_stack(up=False)
    rows_before = volume_holding(stack, MIGRATED_UP_TO_0004)
    stack.up()
    stack.wait_for("/status")
    rows_after = [row for row in stack.psql(EVERY_ROW).splitlines() if "app_iniciada" not in row]
    assert rows_after == rows_before
    assert [(u["id"], u["email"]) for u in stack.get("/usuarios").json()][-2:] == [
        (4, "ana.costa@example.com"),
        (6, "Carla.Souza@Example.com"),
    ]
    created = stack.post("/usuarios", json={"nome": "Davi", "email": "davi@example.com"})
    assert (created.status_code, created.json()["id"]) == (201, 7)
    assert stack.psql(SCHEMA_FACTS) == live_stack.psql(SCHEMA_FACTS)
    assert stack.psql("SELECT max(version) FROM schema_migrations") == "5"


def test_up_refuses_a_migration_that_cannot_apply_and_changes_nothing(make_stack, tmp_path):
    # A short wait: the migrator exits at once, and Docker starting it again keeps it
    # from ever being healthy.
    stack = make_stack(up=False, startTimeoutSeconds=15)
    original_project_volume(
        stack, "INSERT INTO usuarios (nome, email) VALUES ('Ana C.', 'Ana.Costa@Example.com');"
    )

    with pytest.raises(StackError, match="container failed to be in healthy state"):
        stack.up()

    # The provider says no more than that: `make up`'s verdict says why.
    verdict = stack.run_script("verdict.py").stdout
    assert "likely cause: a migration failed, so the schema is not current" in verdict
    assert "migration 0003_email_unico_sem_caixa failed" in verdict
    assert "emails that differ only in case" in verdict
    # Not one row or column changed: the timestamps are still TIMESTAMP, no counters.
    assert stack.psql("SELECT count(*) FROM usuarios") == "6"
    assert (
        stack.psql(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'usuarios'::regclass AND attname = 'data_criacao'"
        )
        == "timestamp without time zone"
    )
    assert (
        stack.psql(
            "SELECT to_regclass('contagens') IS NULL AND to_regclass('schema_migrations') IS NULL"
        )
        == "t"
    )
    # Nor a role: the API's is made in the same transaction as the rest.
    assert stack.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'api'") == "0"
    with pytest.raises(requests.RequestException):
        stack.get("/status", timeout=3)
    # The migration report of make up gives the whole of the runner's lines.
    report = script(stack, "migration-report.sh", backups=tmp_path).stdout
    assert "migrations: FAILED" in report and "migration 0003_email_unico_sem_caixa" in report
    assert "id 4 'ana.costa@example.com', id 7 'Ana.Costa@Example.com'" in report

    # Resolved as docs/schema.md says; Docker's next start of the migrator migrates,
    # and the next up makes the app.
    stack.psql("UPDATE usuarios SET email = 'ana.c@example.com' WHERE id = 7")
    stack.wait_healthy("migrator", timeout=120)
    stack.up()
    stack.wait_for("/status", timeout=120)
    assert stack.psql("SELECT max(version) FROM schema_migrations") == "5"
