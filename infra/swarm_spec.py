"""The parts every service of the swarm target is made of, written as the provider
reads a service back so that an `up` with nothing changed restarts no task.

Durations as shortDur writes them (resource_docker_service_structures.go:1341:
"2m", not "2m0s"), images by digest, networks by ID
(resource_docker_service.go:716: "Using the name attribute of the docker network
will lead to constant replacements").
"""

import base64

import pulumi
import pulumi_docker as docker

from infra.common import HEALTHCHECK_TIMEOUT_SECONDS, LOG_DRIVER, go_duration, healthcheck_retries
from infra.settings import StackConfig

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
