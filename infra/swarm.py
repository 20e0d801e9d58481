"""The stack on a Docker Swarm (target "swarm"): services on an overlay network.

The provider talks to one manager (DOCKER_HOST or `docker:host`): the app
image is built there and pushed to `registry`, the volume is made there, and
the node carrying the label `dbNodeLabel=true` runs the database; label the
node the provider talks to (docs/swarm.md).

Neither the routing mesh nor virtual-IP endpoints are used: both need IPVS in
the nodes' kernels. The app publishes its port in host mode (each node that
runs an app task answers on it) and services find each other by DNS round
robin (`dnsrr`).

Durations are written as the provider reads a service back (shortDur,
resource_docker_service_structures.go:1341: "2m", not "2m0s"), images by
digest, and networks by ID (resource_docker_service.go:716: "Using the name
attribute of the docker network will lead to constant replacements").
"""

import base64

import pulumi
import pulumi_docker as docker

from infra.common import (
    APP_BUILD,
    APP_HEALTH_TEST,
    APP_PORT,
    APP_STOP_GRACE_SECONDS,
    DB_STOP_GRACE_SECONDS,
    HEALTHCHECK_TIMEOUT_SECONDS,
    INIT_SQL,
    INITDB_SCRIPT,
    LOG_DRIVER,
    MIGRATIONS,
    MIGRATIONS_DIR,
    PASSWORD_FILE,
    PGDATA,
    READER_SCRIPT,
    READER_SCRIPT_PATH,
    Stack,
    app_environment,
    db_environment,
    db_health_test,
    declare_volume,
    export,
    go_duration,
    healthcheck_retries,
    reader_environment,
    url_outputs,
)
from infra.config import StackConfig, config_key

# The image's platforms are added to a service's placement when it is created
# (the provider asks the registry for the image's digest and platforms,
# QueryRegistry: resource_docker_service_funcs.go:45, moby client
# service_create.go) and never by an update. Only a service that declares a
# placement sees them as a change: the placement block is Optional and Computed,
# kept whole from the state when it is left out, but its `platforms` is Optional
# alone (resource_docker_service.go:637-684), so a declared placement without
# them plans their removal, an update on every `up`.
IGNORED_WITH_A_PLACEMENT = ["taskSpec.placement.platforms"]
# The app's rolling update: a new task must be healthy before an old one
# stops; a task that fails within this time rolls the update back.
UPDATE_MONITOR_SECONDS = 10

# An update restarts a service's tasks when their template differs from the
# service's, compared field by field and in order (swarmkit IsTaskDirty,
# manager/orchestrator/task.go: reflect.DeepEqual). So every update must send
# what Docker already holds for every part the program did not change:
#
# - Environment variables: the provider sends a service's `env` map as a list in
#   Go's map iteration order, a new one on each call (createContainerSpec,
#   resource_docker_service_structures.go:729; mapTypeMapValsToStringSlice,
#   resource_docker_container_structures.go:218-226). No service declares more
#   than one: the database and the reader get theirs from env(1) in front of
#   their command, a list sent in order; the app reads them from a file
#   (a config, APP_SETTINGS_FILE) that its one variable names.
# - The restart policy: left out, it is created empty and read back with no
#   delay or window, and every update then sends both as 0 (createRestartPolicy,
#   structures.go:1084-1109, parses the state's "" and ignores the error). It is
#   declared in full, as Docker's defaults (swarmkit api/defaults/service.go:
#   any, 5 s, no limit) and in the form the provider reads back
#   (flattenTaskRestartPolicy, structures.go:456-478): a part left out would be
#   sent as 0 on every update.
RESTART_DELAY_SECONDS = 5
# The image's own ENTRYPOINT and CMD (docker-library/postgres
# 15/alpine3.22/Dockerfile:203 and :230; the stand-in's .ci/images/postgres/Dockerfile
# the same): a service's command replaces both (moby
# daemon/cluster/executor/container/container.go, containerConfig.config()). Its
# entrypoint reads POSTGRES_* from its environment only (docker-entrypoint.sh:9-25,
# file_env, called at :235-238), so they are set by env(1) around that command.
POSTGRES_COMMAND = ["docker-entrypoint.sh", "postgres"]
# Read by app/desafio2/settings.py, which puts each NAME=value line it holds into
# the app's environment, as on one host.
APP_SETTINGS_VARIABLE = "SETTINGS_FILE"
APP_SETTINGS_FILE = "/srv/app/settings.env"


def with_environment(variables: list[str], command: list[str]) -> list[str]:
    """`command` run by env(1) with `variables` (NAME=value) set: POSIX, in busybox
    (the alpine images) and coreutils (Debian's) alike; env execs the command, which
    stays the container's main process."""
    return ["env", *variables, *command]


def restart_policy():
    return docker.ServiceTaskSpecRestartPolicyArgs(
        condition="any",
        delay=short_duration(RESTART_DELAY_SECONDS),
        max_attempts=0,
        window=short_duration(0),
    )


def short_duration(seconds: int) -> str:
    """Whole seconds as the provider writes a service's durations back: Go's
    Duration.String() without a trailing zero unit (5s, 1m30s, 2m, 1h)."""
    text = go_duration(seconds)
    if text.endswith("m0s"):
        text = text[:-2]
    if text.endswith("h0m"):
        text = text[:-2]
    return text


def base64_text(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def file_config(resource_name: str, content: pulumi.Input[str], path: str):
    """A file given to a service's tasks as a swarm config, mounted read-only at path.

    Configs cannot change: a new content makes a new config (the name is
    Pulumi's auto-name, so the new one does not clash with the old), the
    service moves to it, then the old one is removed.
    """
    data = pulumi.Output.from_input(content).apply(base64_text)
    config = docker.ServiceConfig(resource_name, data=data)
    return docker.ServiceTaskSpecContainerSpecConfigArgs(
        config_id=config.id, config_name=config.name, file_name=path
    )


def healthcheck(config: StackConfig, test: list[str]):
    return docker.ServiceTaskSpecContainerSpecHealthcheckArgs(
        tests=["CMD", *test],
        interval=short_duration(config.healthcheck_interval_seconds),
        timeout=short_duration(HEALTHCHECK_TIMEOUT_SECONDS),
        retries=healthcheck_retries(config.healthcheck_interval_seconds),
        start_period=short_duration(config.start_timeout_seconds),
    )


def service(
    resource_name: str,
    config: StackConfig,
    network: docker.Network,
    *,
    name: str,
    container_spec: docker.ServiceTaskSpecContainerSpecArgs,
    aliases: list[str] | None = None,
    replicas: int = 1,
    placement: docker.ServiceTaskSpecPlacementArgs | None = None,
    endpoint_spec: docker.ServiceEndpointSpecArgs | None = None,
    opts: pulumi.ResourceOptions | None = None,
    **service_args,
) -> docker.Service:
    """A service of the stack: on its overlay network, found by DNS round robin,
    with rotated logs; `up` waits until its tasks run (and are healthy)."""
    return docker.Service(
        resource_name,
        name=name,
        task_spec=docker.ServiceTaskSpecArgs(
            container_spec=container_spec,
            networks_advanceds=[
                docker.ServiceTaskSpecNetworksAdvancedArgs(id=network.id, aliases=aliases)
            ],
            placement=placement,
            restart_policy=restart_policy(),
            log_driver=docker.ServiceTaskSpecLogDriverArgs(name=LOG_DRIVER),
        ),
        mode=docker.ServiceModeArgs(replicated=docker.ServiceModeReplicatedArgs(replicas=replicas)),
        endpoint_spec=endpoint_spec or docker.ServiceEndpointSpecArgs(mode="dnsrr"),
        converge_config=docker.ServiceConvergeConfigArgs(
            delay=short_duration(1), timeout=short_duration(config.start_timeout_seconds)
        ),
        opts=pulumi.ResourceOptions.merge(
            pulumi.ResourceOptions(
                ignore_changes=IGNORED_WITH_A_PLACEMENT if placement else None,
                # A new alias or network replaces a service
                # (resource_docker_service.go:710-733); its name is fixed, so the
                # old one must go first.
                delete_before_replace=True,
            ),
            opts,
        ),
        **service_args,
    )


def update_policy(args_type, *, order: str, failure_action: str):
    return args_type(
        parallelism=1,
        order=order,
        failure_action=failure_action,
        monitor=short_duration(UPDATE_MONITOR_SECONDS),
    )


def warn_about_host_only_settings(config: StackConfig) -> None:
    defaults = StackConfig(db_password=None)
    for field, why in (
        ("app_bind_address", "a swarm publishes on every interface of every node"),
        ("db_bind_address", "the database is never published on a swarm"),
        ("healthcheck_start_interval_seconds", "a service's health check has none"),
    ):
        if getattr(config, field) != getattr(defaults, field):
            pulumi.log.warn(f"{config_key(field)} has no effect on a swarm: {why}")


def declare(config: StackConfig) -> Stack:
    warn_about_host_only_settings(config)
    network = docker.Network("rede", name=config.network_name, driver="overlay")
    # On the manager the provider talks to: the node that must carry the label.
    volume = declare_volume(config)
    # Never in an environment variable, a label or `docker service inspect`:
    # tasks read it from a file (Docker's secrets are encrypted in the swarm's
    # Raft log and only sent to the nodes that run a task using them).
    password = docker.Secret("db-password", data=config.db_password.apply(base64_text))
    password_file = docker.ServiceTaskSpecContainerSpecSecretArgs(
        secret_id=password.id, secret_name=password.name, file_name=PASSWORD_FILE
    )

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
        placement=docker.ServiceTaskSpecPlacementArgs(
            constraints=[f"node.labels.{config.db_node_label}==true"]
        ),
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
    app = service(
        "app-flask",
        config,
        network,
        name=config.app_container_name,
        aliases=[config.app_alias],
        replicas=config.app_replicas,
        container_spec=docker.ServiceTaskSpecContainerSpecArgs(
            image=app_image.repo_digest.apply(as_stored),
            secrets=[password_file],
            **app_settings(config, volume),
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
        opts=pulumi.ResourceOptions(depends_on=[db]),
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
        "networkName": network.name,
        "dbService": db.name,
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
    return Stack(network, volume, db, app, reader, outputs)


def pinned(image: docker.RemoteImage, name: str) -> pulumi.Output[str]:
    """The image by its registry digest: what every node pulls, the same everywhere."""

    def digest_or_error(digest: str) -> str:
        if not digest:
            raise pulumi.RunError(
                f"image {name} has no registry digest on the manager (built or loaded "
                "there, never pulled): a swarm's nodes pull what they run, so push it to "
                "a registry and name it there"
            )
        return as_stored(digest)

    return image.repo_digest.apply(digest_or_error)


def as_stored(reference: str) -> str:
    """An image reference as Docker stores it in a service: moby's client sends the
    familiar form (imageWithTagString, client/service_create.go), so a Docker Hub
    repository loses its docker.io/ and the provider would read back a change."""
    return reference.removeprefix("docker.io/")


def app_settings(config: StackConfig, volume: docker.Volume) -> dict:
    """The app's env and configs: its environment on one host as the NAME=value lines
    of a file, which its one variable names, and the migrations."""
    lines = pulumi.Output.all(*app_environment(config, volume)).apply(
        lambda variables: "".join(f"{line}\n" for line in variables)
    )
    return {
        "env": {APP_SETTINGS_VARIABLE: APP_SETTINGS_FILE},
        "configs": [file_config("app-settings", lines, APP_SETTINGS_FILE), *migration_configs()],
    }


def migration_configs() -> list:
    return [
        file_config(f"migration-{name.removesuffix('.sql')}", content, f"{MIGRATIONS_DIR}/{name}")
        for name, content in MIGRATIONS.items()
    ]
