"""The stack on a Docker Swarm (target "swarm"): services on an overlay network.

The provider talks to one manager (DOCKER_HOST or `docker:host`): the app
image is built there and pushed to `registry`, the volume is made there, and
the node carrying the label `dbNodeLabel=true` runs the database; label the
node the provider talks to (docs/swarm.md).

Neither the routing mesh nor virtual-IP endpoints are used: both need IPVS in
the nodes' kernels. The app publishes its port in host mode (each node that
runs an app task answers on it) and services find each other by DNS round
robin (`dnsrr`). Each service is made of the parts in infra/swarm_spec.py.
"""

import pulumi
import pulumi_docker as docker

from infra.common import (
    API_PASSWORD_FILE,
    APP_BUILD,
    APP_HEALTH_TEST,
    APP_PORT,
    APP_STOP_GRACE_SECONDS,
    BACKUP_DIR,
    DB_STOP_GRACE_SECONDS,
    INIT_SQL,
    INITDB_SCRIPT,
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
    migrator_environment,
    reader_environment,
    url_outputs,
)
from infra.settings import StackConfig, config_key, defaults
from infra.swarm_spec import (
    APP_SETTINGS_FILE,
    APP_SETTINGS_VARIABLE,
    POSTGRES_COMMAND,
    as_stored,
    base64_text,
    file_config,
    healthcheck,
    pinned,
    service,
    short_duration,
    update_policy,
    with_environment,
)


def warn_about_host_only_settings(config: StackConfig) -> None:
    default = defaults()
    for field, why in (
        ("app_bind_address", "a swarm publishes on every interface of every node"),
        ("db_bind_address", "the database is never published on a swarm"),
        ("healthcheck_start_interval_seconds", "a service's health check has none"),
    ):
        if getattr(config, field) != getattr(default, field):
            pulumi.log.warn(f"{config_key(field)} has no effect on a swarm: {why}")


def declare(config: StackConfig) -> Stack:
    warn_about_host_only_settings(config)
    network = docker.Network("rede", name=config.network_name, driver="overlay")
    # On the manager the provider talks to: the node that must carry the label.
    volume, backups = declare_volumes(config)
    # Never in an environment variable, a label or `docker service inspect`:
    # tasks read them from files (Docker's secrets are encrypted in the swarm's
    # Raft log and only sent to the nodes that run a task using them). Each
    # service holds only its own: the owner's is the database's and the
    # migrator's, the API role's the migrator's (it sets it) and the app's.
    password_file = secret_file("db-password", config.db_password, PASSWORD_FILE)
    api_password_file = secret_file("db-api-password", config.db_api_password, API_PASSWORD_FILE)
    # The database's node: it holds the data's volume, and the migrator's backups.
    on_the_db_node = [f"node.labels.{config.db_node_label}==true"]

    db_image = docker.RemoteImage("postgres-image", name=config.db_image, keep_locally=True)
    db = service(
        "db-postgres",
        config,
        network,
        name=config.db_container_name,
        aliases=[config.db_alias],
        container_spec=docker.ServiceTaskSpecContainerSpecArgs(
            image=pinned(db_image, config.db_image),
            commands=with_environment(db_environment(config), POSTGRES_COMMAND),
            secrets=[password_file],
            configs=[file_config("init-sql", INIT_SQL, INITDB_SCRIPT)],
            mounts=[
                docker.ServiceTaskSpecContainerSpecMountArgs(
                    type="volume", source=volume.name, target=PGDATA
                )
            ],
            healthcheck=healthcheck(config, db_health_test(config)),
            stop_grace_period=short_duration(DB_STOP_GRACE_SECONDS),
        ),
        placement=docker.ServiceTaskSpecPlacementArgs(constraints=on_the_db_node),
        # Never two servers on one data directory: the old task stops first.
        update_config=update_policy(
            docker.ServiceUpdateConfigArgs, order="stop-first", failure_action="pause"
        ),
    )

    app_image = docker.Image(
        "app-image",
        image_name=f"{config.registry}/{config.app_image_name}",
        build=APP_BUILD,
        skip_push=False,
    )
    app_image_digest = app_image.repo_digest.apply(as_stored)
    migrations = migration_configs()
    migrator = service(
        "db-migracoes",
        config,
        network,
        name=config.migrator_container_name,
        container_spec=docker.ServiceTaskSpecContainerSpecArgs(
            image=app_image_digest,
            commands=MIGRATOR_COMMAND,
            secrets=[password_file, api_password_file],
            **settings("migrator-settings", migrator_environment(config), migrations),
            mounts=[
                docker.ServiceTaskSpecContainerSpecMountArgs(
                    type="volume", source=backups.name, target=BACKUP_DIR
                )
            ],
            healthcheck=healthcheck(config, MIGRATOR_HEALTH_TEST),
        ),
        placement=docker.ServiceTaskSpecPlacementArgs(constraints=on_the_db_node),
        # One runner at a time (the runner's lock would make a second one wait anyway).
        update_config=update_policy(
            docker.ServiceUpdateConfigArgs, order="stop-first", failure_action="pause"
        ),
        opts=pulumi.ResourceOptions(depends_on=[db]),
    )

    app = service(
        "app-flask",
        config,
        network,
        name=config.app_container_name,
        aliases=[config.app_alias],
        replicas=config.app_replicas,
        container_spec=docker.ServiceTaskSpecContainerSpecArgs(
            image=app_image_digest,
            secrets=[api_password_file],
            **settings("app-settings", app_environment(config, volume), migrations),
            healthcheck=healthcheck(config, APP_HEALTH_TEST),
            stop_grace_period=short_duration(APP_STOP_GRACE_SECONDS),
        ),
        # One task a node: each node that runs one answers on the published port.
        placement=docker.ServiceTaskSpecPlacementArgs(max_replicas=1),
        endpoint_spec=docker.ServiceEndpointSpecArgs(
            mode="dnsrr",
            ports=[
                docker.ServiceEndpointSpecPortArgs(
                    target_port=APP_PORT, published_port=config.app_host_port, publish_mode="host"
                )
            ],
        ),
        update_config=update_policy(
            docker.ServiceUpdateConfigArgs, order="start-first", failure_action="rollback"
        ),
        rollback_config=update_policy(
            docker.ServiceRollbackConfigArgs, order="start-first", failure_action="pause"
        ),
        opts=pulumi.ResourceOptions(depends_on=[migrator]),
    )

    reader_image = docker.RemoteImage("curl-image", name=config.reader_image, keep_locally=True)
    reader = service(
        "leitor-dados",
        config,
        network,
        name=config.reader_container_name,
        container_spec=docker.ServiceTaskSpecContainerSpecArgs(
            image=pinned(reader_image, config.reader_image),
            commands=with_environment(reader_environment(config), ["/bin/sh", READER_SCRIPT_PATH]),
            configs=[file_config("leitor-script", READER_SCRIPT, READER_SCRIPT_PATH)],
        ),
        opts=pulumi.ResourceOptions(depends_on=[app]),
    )

    outputs = {
        **url_outputs(f"http://{config.app_public_host}:{config.app_host_port}"),
        "volumeName": volume.name,
        "backupVolumeName": backups.name,
        "networkName": network.name,
        "dbService": db.name,
        "migratorService": migrator.name,
        "appService": app.name,
        "readerService": reader.name,
        "dbPlacement": volume.name.apply(
            lambda name: f"the node labelled {config.db_node_label}=true (it holds {name})"
        ),
        "appPlacement": (
            f"{config.app_replicas} nodes, one task each, answering on port {config.app_host_port}"
        ),
        "readerPlacement": "any node",
    }
    export(outputs)
    return Stack(network, volume, backups, db, migrator, app, reader, outputs)


def secret_file(resource_name: str, value: pulumi.Output[str], path: str):
    secret = docker.Secret(resource_name, data=value.apply(base64_text))
    return docker.ServiceTaskSpecContainerSpecSecretArgs(
        secret_id=secret.id, secret_name=secret.name, file_name=path
    )


def settings(resource_name: str, environment: list[pulumi.Input[str]], migrations: list) -> dict:
    """The env and configs of a service of the app image: its environment on one host
    as the NAME=value lines of a file, which its one variable names, and the migrations
    (app/desafio2/settings.py reads the file)."""
    lines = pulumi.Output.all(*environment).apply(
        lambda variables: "".join(f"{line}\n" for line in variables)
    )
    return {
        "env": {APP_SETTINGS_VARIABLE: APP_SETTINGS_FILE},
        "configs": [file_config(resource_name, lines, APP_SETTINGS_FILE), *migrations],
    }


def migration_configs() -> list:
    return [
        file_config(f"migration-{name.removesuffix('.sql')}", content, f"{MIGRATIONS_DIR}/{name}")
        for name, content in MIGRATIONS.items()
    ]
