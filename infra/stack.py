"""The resources of the stack and its outputs.

Containers reference images by ID (`RemoteImage.image_id`, `Image.repo_digest`)
rather than by tag, so that a second `pulumi up` with nothing changed replaces
nothing (pulumi/pulumi-docker#325). Build inputs are relative paths, and files
the containers need are uploaded as content, so no machine-specific path ever
reaches the state.
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
# The app applies them at its start (app/api/migrations.py); uploaded rather than
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
# Rotated json-file logs: the reader writes a line every few seconds, forever.
LOG_OPTS = {"max-size": "10m", "max-file": "3"}
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


def public_url(bind_address: str, port: int) -> str:
    """The URL a user on the Docker host opens for a port published on bind_address."""
    address = ipaddress.ip_address(bind_address)
    host = "localhost" if address.is_unspecified else str(address)
    if address.version == 6 and not address.is_unspecified:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def service(
    resource_name: str,
    config: StackConfig,
    network: docker.Network,
    *,
    aliases: list[str] | None = None,
    health_test: list[str] | None = None,
    **container_args,
) -> docker.Container:
    """A container of the stack: on its network only, restarted unless stopped,
    with rotated logs; with a health check, `up` waits until it is healthy."""
    if health_test:
        container_args.update(
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD", *health_test],
                interval=f"{config.healthcheck_interval_seconds}s",
                timeout="3s",
                retries=5,
                start_period=f"{config.start_timeout_seconds}s",
                start_interval="1s",
            ),
            wait=True,
            wait_timeout=config.start_timeout_seconds,
        )
    return docker.Container(
        resource_name,
        networks_advanced=[
            docker.ContainerNetworksAdvancedArgs(name=network.name, aliases=aliases)
        ],
        restart="unless-stopped",
        log_driver="json-file",
        log_opts=LOG_OPTS,
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
            ignore_changes=["name", "driver", "driverOpts"],
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
        build=docker.DockerBuildArgs(context="app", dockerfile="app/Dockerfile"),
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
    pulumi.export("url", url)
    pulumi.export("usuariosUrl", f"{url}/usuarios")
    pulumi.export("logsUrl", f"{url}/logs")
    pulumi.export("statusUrl", f"{url}/status")
    pulumi.export("volumeName", volume.name)
    pulumi.export("networkName", network.name)
    pulumi.export("dbContainer", db.name)
    pulumi.export("appContainer", app.name)
    pulumi.export("readerContainer", reader.name)

    return Stack(network, volume, db_image, db, app_image, app, reader_image, reader)


def warn_if_volume_kept(actual: str, configured: str) -> None:
    if actual != configured:
        pulumi.log.warn(
            f"volumeName is now {configured!r}, but the database keeps its volume {actual!r}: "
            "replacing it would start the database empty. To move to the new volume, run "
            "`make down` (the old volume stays in Docker), then `make up`."
        )
