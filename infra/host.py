"""The stack on one Docker host (target "host", the default): four containers."""

import ipaddress

import pulumi
import pulumi_docker as docker

from infra.common import (
    API_PASSWORD_FILE,
    APP_BUILD,
    APP_HEALTH_TEST,
    APP_PORT,
    APP_STOP_GRACE_SECONDS,
    BACKUP_DIR,
    DB_PORT,
    DB_STOP_GRACE_SECONDS,
    HEALTHCHECK_TIMEOUT_SECONDS,
    INIT_SQL,
    INITDB_SCRIPT,
    LOG_DRIVER,
    MIGRATIONS,
    MIGRATIONS_DIR,
    MIGRATOR_COMMAND,
    MIGRATOR_HEALTH_TEST,
    PASSWORD_FILE,
    PGDATA,
    READER_SCRIPT,
    READER_SCRIPT_PATH,
    Stack,
    app_environment,
    db_environment,
    db_health_test,
    declare_volumes,
    export,
    go_duration,
    healthcheck_retries,
    migrator_environment,
    reader_environment,
    url_outputs,
)
from infra.settings import StackConfig


def public_url(bind_address: str, port: int) -> str:
    """The URL a user on the Docker host opens for a port published on bind_address."""
    address = ipaddress.ip_address(bind_address)
    host = "localhost" if address.is_unspecified else str(address)
    if address.version == 6 and not address.is_unspecified:
        host = f"[{host}]"
    return f"http://{host}:{port}"


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
        timeout=go_duration(HEALTHCHECK_TIMEOUT_SECONDS),
        retries=healthcheck_retries(config.healthcheck_interval_seconds),
        start_period=go_duration(config.start_timeout_seconds),
        start_interval=go_duration(start_interval) if start_interval else None,
    )


def container(
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
    volume, backups = declare_volumes(config)
    password_upload = docker.ContainerUploadArgs(file=PASSWORD_FILE, content=config.db_password)
    api_password_upload = docker.ContainerUploadArgs(
        file=API_PASSWORD_FILE, content=config.db_api_password
    )
    migration_uploads = [
        docker.ContainerUploadArgs(file=f"{MIGRATIONS_DIR}/{name}", content=content)
        for name, content in MIGRATIONS.items()
    ]

    db_image = docker.RemoteImage("postgres-image", name=config.db_image, keep_locally=True)
    db = container(
        "db-postgres",
        config,
        network,
        aliases=[config.db_alias],
        name=config.db_container_name,
        image=db_image.image_id,
        envs=db_environment(config),
        uploads=[password_upload, docker.ContainerUploadArgs(file=INITDB_SCRIPT, content=INIT_SQL)],
        mounts=[docker.ContainerMountArgs(type="volume", source=volume.name, target=PGDATA)],
        ports=(
            published(DB_PORT, config.db_host_port, config.db_bind_address)
            if config.db_host_port
            else []
        ),
        health_test=db_health_test(config),
        destroy_grace_seconds=DB_STOP_GRACE_SECONDS,
    )

    app_image = docker.Image(
        "app-image", image_name=config.app_image_name, build=APP_BUILD, skip_push=True
    )
    migrator = container(
        "db-migracoes",
        config,
        network,
        name=config.migrator_container_name,
        image=app_image.repo_digest,
        entrypoints=MIGRATOR_COMMAND,
        envs=migrator_environment(config),
        # The only container besides the database's that holds the owner's password.
        uploads=[password_upload, api_password_upload, *migration_uploads],
        mounts=[docker.ContainerMountArgs(type="volume", source=backups.name, target=BACKUP_DIR)],
        health_test=MIGRATOR_HEALTH_TEST,
        # Once the database is healthy (db waits for it).
        opts=pulumi.ResourceOptions(depends_on=[db]),
    )

    app = container(
        "app-flask",
        config,
        network,
        aliases=[config.app_alias],
        name=config.app_container_name,
        image=app_image.repo_digest,
        envs=app_environment(config, volume),
        # The API role's password only: it cannot change the schema or read other files.
        uploads=[api_password_upload, *migration_uploads],
        ports=published(APP_PORT, config.app_host_port, config.app_bind_address),
        health_test=APP_HEALTH_TEST,
        destroy_grace_seconds=APP_STOP_GRACE_SECONDS,
        # Once the schema is current (the migrator is healthy once it migrated).
        opts=pulumi.ResourceOptions(depends_on=[migrator]),
    )

    reader_image = docker.RemoteImage("curl-image", name=config.reader_image, keep_locally=True)
    reader = container(
        "leitor-dados",
        config,
        network,
        name=config.reader_container_name,
        image=reader_image.image_id,
        entrypoints=["/bin/sh", READER_SCRIPT_PATH],
        envs=reader_environment(config),
        uploads=[docker.ContainerUploadArgs(file=READER_SCRIPT_PATH, content=READER_SCRIPT)],
        opts=pulumi.ResourceOptions(depends_on=[app]),
    )

    outputs = {
        **url_outputs(public_url(config.app_bind_address, config.app_host_port)),
        "volumeName": volume.name,
        "backupVolumeName": backups.name,
        "networkName": network.name,
        "dbContainer": db.name,
        "migratorContainer": migrator.name,
        "appContainer": app.name,
        "readerContainer": reader.name,
    }
    export(outputs)
    return Stack(network, volume, backups, db, migrator, app, reader, outputs)
