"""What the stack is on either target: its files, paths and ports, the volume, the
app's environment and the outputs.

Every input is written the way pulumi-docker reads it back from Docker, so
that a second `pulumi up` with nothing changed plans no change at all:
images are referenced by ID or digest (`RemoteImage.image_id` and
`repo_digest`, `Image.repo_digest`) rather than by tag (pulumi/pulumi-docker#325),
durations are in the form the provider writes them back, and nothing is
declared that Docker merges its own defaults into (log options, volume labels).
Build inputs are relative paths, and files the containers need are given as
content, so no machine-specific path ever reaches the state.
testing/harness/ cites the provider's source for each of these behaviours.
"""

import dataclasses
import math
from pathlib import Path

import pulumi
import pulumi_docker as docker

from infra.settings import StackConfig, backup_volume_name

REPO_ROOT = Path(__file__).resolve().parent.parent
INIT_SQL = (REPO_ROOT / "db" / "init.sql").read_text(encoding="utf-8")
READER_SCRIPT = (REPO_ROOT / "reader" / "leitor.sh").read_text(encoding="utf-8")
# The migrator applies them (app/desafio2/migrations/); given to it as files
# rather than built into the image, whose build context is app/ alone.
MIGRATIONS = {
    path.name: path.read_text(encoding="utf-8")
    for path in sorted((REPO_ROOT / "db" / "migrations").glob("*.sql"))
}

PGDATA = "/var/lib/postgresql/data"
PASSWORD_FILE = "/run/secrets/db_password"  # noqa: S105 - a path, not a password
API_PASSWORD_FILE = "/run/secrets/db_api_password"  # noqa: S105 - a path, not a password
# The API's login role, made by db/migrations/0005_papel_da_api.sql.
API_ROLE = "api"
BACKUP_DIR = "/srv/backups"
INITDB_SCRIPT = "/docker-entrypoint-initdb.d/init.sql"
READER_SCRIPT_PATH = "/opt/leitor/leitor.sh"
MIGRATIONS_DIR = "/srv/app/migrations"
APP_PORT = 5000
DB_PORT = 5432
# The reader writes a line every few seconds, forever. Docker's `local` log
# driver rotates by default (20 MB a file, 5 files, compressed), so no log
# options are declared: the engine would merge daemon-wide ones into a
# container's and the provider, reading them back, would replace every
# container on each up (terraform-provider-docker v4.5.0,
# internal/provider/resource_docker_container_funcs.go:952, log_opts is
# force-new: resource_docker_container.go:898).
LOG_DRIVER = "local"
# BuildKit, said explicitly (it is also pulumi-docker's default, provider/image.go:50).
# The classic builder ("BuilderV1") keeps every step's intermediate container:
# the provider never sets ImageBuildOptions.Remove (image.go:202-213), and
# moby's client then sends rm=0 (client/image_build.go:67-73, docker v28.5.2),
# so each build that runs a step leaves a stopped container behind. BuildKit
# runs steps without containers the engine lists; Docker 20.10 has it.
IMAGE_BUILDER = "BuilderBuildKit"
APP_BUILD = docker.DockerBuildArgs(
    context="app", dockerfile="app/Dockerfile", builder_version=IMAGE_BUILDER
)
HEALTHCHECK_TIMEOUT_SECONDS = 3
# How long a container may fail its checks in a row before Docker marks it
# unhealthy: what 5 retries of the old 5 s interval allowed. The interval is
# short so that a container is healthy about a second after it is ready
# (Docker 20.10 has no start interval, and runs the first check one interval
# after the start); the retries grow with it to keep this tolerance. It is kept
# for checks that fail at once (refused, not ready). Docker waits the interval
# after each check ends, so checks that each hang to their timeout take longer
# to mark a container unhealthy: 25 x (1 + 3) s, where the old ones took 5 x (5 + 3).
HEALTHCHECK_TOLERANCE_SECONDS = 25
# -I -S: the check runs every second; an interpreter without site-packages starts in
# a fraction of the time (app/healthcheck.py needs the standard library only).
APP_HEALTH_TEST = ["python", "-I", "-S", "healthcheck.py"]
# The migrator: the app image's migration runner, as the schema's owner, in a
# container of its own, so that the serving process never holds the owner's
# password (app/desafio2/migrations/ backs up, migrates, sets the API role's
# password). It then stays, idle and healthy, so that `up` waits for it as it
# waits for the database, on one host and on a swarm alike (a service whose task
# exits never converges); a failure exits, and Docker runs it again. The marker
# is removed first: a restart (after a restore) is healthy only once it migrated.
MIGRATED_MARKER = "/tmp/desafio2-schema-current"  # noqa: S108 - the container's own /tmp
MIGRATOR_SCRIPT = (
    f"rm -f {MIGRATED_MARKER} && python -m desafio2.migrations || exit; touch {MIGRATED_MARKER}; "
    # The shell is the container's PID 1, which ignores a TERM it has no trap for:
    # without one, every stop would wait out the grace period.
    "trap 'exit 0' TERM INT; sleep infinity & wait"
)
MIGRATOR_COMMAND = ["/bin/sh", "-c", MIGRATOR_SCRIPT]
MIGRATOR_HEALTH_TEST = ["test", "-e", MIGRATED_MARKER]
# Without a grace period the database is killed when it is stopped for a
# replacement or a destroy; PostgreSQL then has to recover on its next start.
DB_STOP_GRACE_SECONDS = 30
APP_STOP_GRACE_SECONDS = 15  # gunicorn's graceful_timeout is 10 s


@dataclasses.dataclass(frozen=True)
class Stack:
    """The declared resources. On a host db, migrator, app and reader are
    docker.Container; on a swarm docker.Service."""

    network: docker.Network
    volume: docker.Volume
    backups: docker.Volume
    db: pulumi.CustomResource
    migrator: pulumi.CustomResource
    app: pulumi.CustomResource
    reader: pulumi.CustomResource
    outputs: dict[str, pulumi.Input[str]]  # what `pulumi stack output` shows


def go_duration(seconds: int) -> str:
    """Whole seconds as Go's time.Duration.String() writes them: 5s, 2m0s, 1h0m0s.

    The provider parses a container's health check durations and stores what
    Docker reports, formatted that way (resource_docker_container_funcs.go:964):
    "120s" would read back as "2m0s" and show a change on every up.
    """
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def healthcheck_retries(interval_seconds: int) -> int:
    return max(1, math.ceil(HEALTHCHECK_TOLERANCE_SECONDS / interval_seconds))


def db_health_test(config: StackConfig) -> list[str]:
    # Over TCP: during initdb the server listens on its socket only, so a
    # TCP check cannot pass before init.sql has run.
    return ["pg_isready", "-h", "127.0.0.1", "-U", config.db_user, "-d", config.db_name]


def db_environment(config: StackConfig) -> list[str]:
    return [
        f"POSTGRES_USER={config.db_user}",
        f"POSTGRES_DB={config.db_name}",
        f"POSTGRES_PASSWORD_FILE={PASSWORD_FILE}",
    ]


def app_image_environment(config: StackConfig, user: str, password_file: str) -> list[str]:
    """What both programs of the app's image take: libpq's variables, with the password
    in a file (app/desafio2/settings.py), and where the migrations are (the migrator
    applies them; the app waits until the schema is at the version they reach)."""
    return [
        f"PGHOST={config.db_alias}",
        f"PGPORT={DB_PORT}",
        f"PGUSER={user}",
        f"PGDATABASE={config.db_name}",
        f"DATABASE_PASSWORD_FILE={password_file}",
        f"MIGRATIONS_DIR={MIGRATIONS_DIR}",
    ]


def migrator_environment(config: StackConfig) -> list[str]:
    return [
        *app_image_environment(config, config.db_user, PASSWORD_FILE),
        f"API_DATABASE_PASSWORD_FILE={API_PASSWORD_FILE}",
        f"BACKUP_DIR={BACKUP_DIR}",
    ]


def app_environment(config: StackConfig, volume: docker.Volume) -> list[pulumi.Input[str]]:
    return [
        *app_image_environment(config, API_ROLE, API_PASSWORD_FILE),
        volume.name.apply(lambda name: f"VOLUME_NAME={name}"),
        f"WEB_CONCURRENCY={config.app_workers}",
        f"GUNICORN_THREADS={config.app_threads}",
    ]


def reader_environment(config: StackConfig) -> list[str]:
    return [
        f"API_URL=http://{config.app_alias}:{APP_PORT}",
        f"READ_INTERVAL_SECONDS={config.reader_interval_seconds}",
    ]


def declare_volumes(config: StackConfig) -> tuple[docker.Volume, docker.Volume]:
    """The data's volume and the backups' volume, both kept by `pulumi destroy`."""
    data = declare_volume("dados-postgres", config, config.volume_name)
    data.name.apply(lambda actual: warn_if_volume_kept(actual, config.volume_name))
    # Named after the data's, and kept with it when volumeName changes (ignore_changes).
    backups = declare_volume("backups-postgres", config, backup_volume_name(config.volume_name))
    return data, backups


def declare_volume(resource_name: str, config: StackConfig, name: str) -> docker.Volume:
    volume = docker.Volume(
        resource_name,
        name=name,
        opts=pulumi.ResourceOptions(
            # `pulumi destroy` leaves the volume, and its data, in Docker; the
            # next `up` attaches it again by name. retainVolume=false then
            # `up` then `destroy` is the deliberate way to delete the data.
            retain_on_delete=config.retain_volume,
            # A new name or driver would replace the volume and start the
            # database on an empty one. The change is ignored instead, and
            # warn_if_volume_kept() says so; docs/persistence.md: "Moving to another volume".
            # Labels are read back from Docker and force a replacement
            # (resource_docker_volume.go:48 and :309): a volume adopted from
            # docker compose carries com.docker.compose.* labels.
            ignore_changes=["name", "driver", "driverOpts", "labels"],
        ),
    )
    return volume


def warn_if_volume_kept(actual: str, configured: str) -> None:
    if actual != configured:
        pulumi.log.warn(
            f"volumeName is now {configured!r}, but the database keeps its volume {actual!r}: "
            "replacing it would start the database empty. To move to the new volume, run "
            "`make down` (the old volume stays in Docker), then `make up`."
        )


def url_outputs(url: str) -> dict[str, str]:
    return {
        "url": url,
        "usuariosUrl": f"{url}/usuarios",
        "logsUrl": f"{url}/logs",
        "statusUrl": f"{url}/status",
    }


def export(outputs: dict[str, pulumi.Input[str]]) -> None:
    for name, value in outputs.items():
        pulumi.export(name, value)
