"""The resources of the stack and its outputs.

Every input is written the way pulumi-docker reads it back from Docker, so
that a second `pulumi up` with nothing changed plans no change at all:
containers reference images by ID (`RemoteImage.image_id`, `Image.repo_digest`)
rather than by tag (pulumi/pulumi-docker#325), durations are in Go's canonical
form (`go_duration`), and nothing is declared that Docker merges its own
defaults into (log options, volume labels). Build inputs are relative paths,
and files the containers need are uploaded as content, so no machine-specific
path ever reaches the state. tests/e2e/harness/ cites the provider's source
for each of these behaviours.
"""

import dataclasses
import ipaddress
from pathlib import Path

import pulumi
import pulumi_docker as docker

from infra.config import StackConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
INIT_SQL = (REPO_ROOT / "db" / "init.sql").read_text(encoding="utf-8")
READER_SCRIPT = (REPO_ROOT / "reader" / "leitor.sh").read_text(encoding="utf-8")
# The app applies them at its start (app/desafio2/migrations.py); uploaded rather than
# built into the image, whose build context is app/ alone.
MIGRATIONS = {
    path.name: path.read_text(encoding="utf-8")
    for path in sorted((REPO_ROOT / "db" / "migrations").glob("*.sql"))
}

PGDATA = "/var/lib/postgresql/data"
PASSWORD_FILE = "/run/secrets/db_password"  # noqa: S105 - a path, not a password
INITDB_SCRIPT = "/docker-entrypoint-initdb.d/init.sql"
READER_SCRIPT_PATH = "/opt/leitor/leitor.sh"
MIGRATIONS_DIR = "/srv/app/migrations"
APP_PORT = 5000
DB_PORT = 5432
# The reader writes a line every few seconds, forever. Docker's `local` log
# driver rotates by default (20 MB a file, 5 files, compressed), so no log
# options are declared: the engine would merge daemon-wide ones into them
# and the provider, reading them back, would replace every container on
# each up (terraform-provider-docker v4.5.0,
# internal/provider/resource_docker_container_funcs.go:952, log_opts is
# force-new: resource_docker_container.go:898).
LOG_DRIVER = "local"
# The classic builder, said explicitly: pulumi-docker defaults to BuildKit
# (provider/image.go:50), which the engines we support do not all run the
# same way; the Dockerfile needs nothing BuildKit adds.
IMAGE_BUILDER = "BuilderV1"
HEALTHCHECK_TIMEOUT = "3s"
HEALTHCHECK_RETRIES = 5
# Without a grace period the provider kills a container it deletes or
# replaces; PostgreSQL then has to recover on its next start.
DB_STOP_GRACE_SECONDS = 30
APP_STOP_GRACE_SECONDS = 15  # gunicorn's graceful_timeout is 10 s


@dataclasses.dataclass(frozen=True)
class Stack:
    network: docker.Network
    volume: docker.Volume
    db_image: docker.RemoteImage
    db: docker.Container
    app_image: docker.Image
    app: docker.Container
    reader_image: docker.RemoteImage
    reader: docker.Container
    outputs: dict[str, pulumi.Input[str]]  # what `pulumi stack output` shows


def public_url(bind_address: str, port: int) -> str:
    """The URL a user on the Docker host opens for a port published on bind_address."""
    address = ipaddress.ip_address(bind_address)
    host = "localhost" if address.is_unspecified else str(address)
    if address.version == 6 and not address.is_unspecified:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def go_duration(seconds: int) -> str:
    """Whole seconds as Go's time.Duration.String() writes them: 5s, 2m0s, 1h0m0s.

    The provider parses a health check's durations and stores what Docker
    reports, formatted that way (resource_docker_container_funcs.go:964):
    "120s" would read back as "2m0s" and show a change on every up.
    """
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def healthcheck(config: StackConfig, test: list[str]) -> docker.ContainerHealthcheckArgs:
    """A health check on the engines the stack supports, Docker 20.10 and newer.

    `start_interval` is only sent when configured: the provider's Docker client
    refuses to create a container that has one on an engine older than API
    1.44 (Docker 25), so setting it by default would break every older engine.
    """
    start_interval = config.healthcheck_start_interval_seconds
    return docker.ContainerHealthcheckArgs(
        tests=["CMD", *test],
        interval=go_duration(config.healthcheck_interval_seconds),
        timeout=HEALTHCHECK_TIMEOUT,
        retries=HEALTHCHECK_RETRIES,
        start_period=go_duration(config.start_timeout_seconds),
        start_interval=go_duration(start_interval) if start_interval else None,
    )


def service(
    resource_name: str,
    config: StackConfig,
    network: docker.Network,
    *,
    aliases: list[str] | None = None,
    health_test: list[str] | None = None,
    opts: pulumi.ResourceOptions | None = None,
    **container_args,
) -> docker.Container:
    """A container of the stack: on its network only, restarted unless stopped,
    with rotated logs; with a health check, `up` waits until it is healthy."""
    if health_test:
        container_args.update(
            healthcheck=healthcheck(config, health_test),
            wait=True,
            wait_timeout=config.start_timeout_seconds,
        )
    return docker.Container(
        resource_name,
        networks_advanced=[
            docker.ContainerNetworksAdvancedArgs(name=network.name, aliases=aliases)
        ],
        restart="unless-stopped",
        log_driver=LOG_DRIVER,
        opts=pulumi.ResourceOptions.merge(
            pulumi.ResourceOptions(
                # The provider updates a health check in place and its Update
                # never sends it to Docker (resource_docker_container_funcs.go:991):
                # a new interval would be recorded but never run. Replacing the
                # container is how a health check change reaches it; the
                # container's name is fixed, so the old one goes first.
                replace_on_changes=["healthcheck"],
                delete_before_replace=True,
            ),
            opts,
        ),
        **container_args,
    )


def published(internal: int, external: int, bind_address: str) -> list[docker.ContainerPortArgs]:
    return [docker.ContainerPortArgs(internal=internal, external=external, ip=bind_address)]


def declare(config: StackConfig) -> Stack:
    network = docker.Network("rede", name=config.network_name, driver="bridge")

    volume = docker.Volume(
        "dados-postgres",
        name=config.volume_name,
        opts=pulumi.ResourceOptions(
            # `pulumi destroy` leaves the volume, and its data, in Docker; the
            # next `up` attaches it again by name. retainVolume=false then
            # `up` then `destroy` is the deliberate way to delete the data.
            retain_on_delete=config.retain_volume,
            # A new name or driver would replace the volume and start the
            # database on an empty one. The change is ignored instead, and
            # warn_if_volume_kept() says so; README: "Moving to another volume".
            # Labels are read back from Docker and force a replacement
            # (resource_docker_volume.go:48 and :309): a volume adopted from
            # docker compose carries com.docker.compose.* labels.
            ignore_changes=["name", "driver", "driverOpts", "labels"],
        ),
    )
    volume.name.apply(lambda actual: warn_if_volume_kept(actual, config.volume_name))

    password_upload = docker.ContainerUploadArgs(file=PASSWORD_FILE, content=config.db_password)

    db_image = docker.RemoteImage("postgres-image", name=config.db_image, keep_locally=True)
    db = service(
        "db-postgres",
        config,
        network,
        aliases=[config.db_alias],
        name=config.db_container_name,
        image=db_image.image_id,
        envs=[
            f"POSTGRES_USER={config.db_user}",
            f"POSTGRES_DB={config.db_name}",
            f"POSTGRES_PASSWORD_FILE={PASSWORD_FILE}",
        ],
        uploads=[password_upload, docker.ContainerUploadArgs(file=INITDB_SCRIPT, content=INIT_SQL)],
        mounts=[docker.ContainerMountArgs(type="volume", source=volume.name, target=PGDATA)],
        ports=(
            published(DB_PORT, config.db_host_port, config.db_bind_address)
            if config.db_host_port
            else []
        ),
        # Over TCP: during initdb the server listens on its socket only, so a
        # TCP check cannot pass before init.sql has run.
        health_test=["pg_isready", "-h", "127.0.0.1", "-U", config.db_user, "-d", config.db_name],
        destroy_grace_seconds=DB_STOP_GRACE_SECONDS,
    )

    app_image = docker.Image(
        "app-image",
        image_name=config.app_image_name,
        build=docker.DockerBuildArgs(
            context="app", dockerfile="app/Dockerfile", builder_version=IMAGE_BUILDER
        ),
        skip_push=True,
    )
    app = service(
        "app-flask",
        config,
        network,
        aliases=[config.app_alias],
        name=config.app_container_name,
        image=app_image.repo_digest,
        envs=[
            f"PGHOST={config.db_alias}",
            f"PGPORT={DB_PORT}",
            f"PGUSER={config.db_user}",
            f"PGDATABASE={config.db_name}",
            f"DATABASE_PASSWORD_FILE={PASSWORD_FILE}",
            volume.name.apply(lambda name: f"VOLUME_NAME={name}"),
            f"WEB_CONCURRENCY={config.app_workers}",
            f"GUNICORN_THREADS={config.app_threads}",
            f"MIGRATIONS_DIR={MIGRATIONS_DIR}",
        ],
        uploads=[
            password_upload,
            *(
                docker.ContainerUploadArgs(file=f"{MIGRATIONS_DIR}/{name}", content=content)
                for name, content in MIGRATIONS.items()
            ),
        ],
        ports=published(APP_PORT, config.app_host_port, config.app_bind_address),
        health_test=["python", "healthcheck.py"],
        destroy_grace_seconds=APP_STOP_GRACE_SECONDS,
        # The app may only start once the database is healthy (db waits for it).
        opts=pulumi.ResourceOptions(depends_on=[db]),
    )

    reader_image = docker.RemoteImage("curl-image", name=config.reader_image, keep_locally=True)
    reader = service(
        "leitor-dados",
        config,
        network,
        name=config.reader_container_name,
        image=reader_image.image_id,
        entrypoints=["/bin/sh", READER_SCRIPT_PATH],
        envs=[
            f"API_URL=http://{config.app_alias}:{APP_PORT}",
            f"READ_INTERVAL_SECONDS={config.reader_interval_seconds}",
        ],
        uploads=[docker.ContainerUploadArgs(file=READER_SCRIPT_PATH, content=READER_SCRIPT)],
        opts=pulumi.ResourceOptions(depends_on=[app]),
    )

    url = public_url(config.app_bind_address, config.app_host_port)
    outputs = {
        "url": url,
        "usuariosUrl": f"{url}/usuarios",
        "logsUrl": f"{url}/logs",
        "statusUrl": f"{url}/status",
        "volumeName": volume.name,
        "networkName": network.name,
        "dbContainer": db.name,
        "appContainer": app.name,
        "readerContainer": reader.name,
    }
    for name, value in outputs.items():
        pulumi.export(name, value)

    return Stack(network, volume, db_image, db, app_image, app, reader_image, reader, outputs)


def warn_if_volume_kept(actual: str, configured: str) -> None:
    if actual != configured:
        pulumi.log.warn(
            f"volumeName is now {configured!r}, but the database keeps its volume {actual!r}: "
            "replacing it would start the database empty. To move to the new volume, run "
            "`make down` (the old volume stays in Docker), then `make up`."
        )
