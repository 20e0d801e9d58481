"""Which input changes replace a resource and which update it in place.

One row per input the program sets, for the provider versions requirements.txt
pins: pulumi-docker 5.x, whose Container, Network, Volume and RemoteImage are
kreuzwerker/terraform-provider-docker v4.5.0 (commit 5074970c, the `upstream`
submodule of pulumi-docker 5.x) bridged to Pulumi, and whose Image is
pulumi-docker's own provider/image.go. A row cites the schema line that
decides it: Terraform's `ForceNew: true` makes a change a replacement; any
other change is an update, and the provider's Update does only what each
type's `update()` does (everything else is written to the state and never
reaches Docker). Rows for inputs the program leaves unset are there because
Read sets them from Docker: each must read back as its default, or the
provider would plan a change.

`computed` inputs are filled in from Docker when the program leaves them
unset (Terraform's `Computed: true`), so leaving one out shows no change; an
input that is not computed and is left out differs from a value read back
from Docker (a volume's labels, for one).
"""

import dataclasses

NETWORK = "docker:index/network:Network"
VOLUME = "docker:index/volume:Volume"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
IMAGE = "docker:index/image:Image"
CONTAINER = "docker:index/container:Container"
SERVICE = "docker:index/service:Service"
SECRET = "docker:index/secret:Secret"
SERVICE_CONFIG = "docker:index/serviceConfig:ServiceConfig"

_CONTAINER_GO = "internal/provider/resource_docker_container.go"
_VOLUME_GO = "internal/provider/resource_docker_volume.go"
_NETWORK_GO = "internal/provider/resource_docker_network.go"
_IMAGE_GO = "internal/provider/resource_docker_image.go"
_SERVICE_GO = "internal/provider/resource_docker_service.go"
_SECRET_GO = "internal/provider/resource_docker_secret.go"
_CONFIG_GO = "internal/provider/resource_docker_config.go"
_SPEC = "taskSpec.containerSpec"


@dataclasses.dataclass(frozen=True)
class Rule:
    replaces: bool
    cite: str
    computed: bool = False
    # Terraform sets (TypeSet) compare without order.
    unordered: bool = False
    # What an input the program leaves unset stands for (the schema's Default,
    # false for a bool), compared with what Read puts in the state.
    default: object = None


class _LeftOut:
    def __repr__(self) -> str:
        return "LEFT_OUT"


# What a part of an Optional and Computed block holds when the program leaves the
# whole block out: Terraform plans the state's value for it, so no diff, and an
# update sends what the state holds; a create has no state yet and sends nothing.
LEFT_OUT = _LeftOut()


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


# What the state holds, after a create that failed, for a Computed input the program
# leaves out: the plan's unknown, never read back (engine.py, _create).
UNKNOWN = _Unknown()


def _replace(cite: str, **kw) -> Rule:
    return Rule(True, cite, **kw)


def _update(cite: str, **kw) -> Rule:
    return Rule(False, cite, **kw)


RULES: dict[str, dict[str, Rule]] = {
    NETWORK: {
        "name": _replace(f"{_NETWORK_GO}:29"),
        "labels": _replace(f"{_NETWORK_GO}:32", unordered=True),
        "driver": _replace(f"{_NETWORK_GO}:44", computed=True),
        "internal": _replace(f"{_NETWORK_GO}:56", computed=True),
        "attachable": _replace(f"{_NETWORK_GO}:64", default=False),
        "ingress": _replace(f"{_NETWORK_GO}:71", default=False),
        "ipv6": _replace(f"{_NETWORK_GO}:78", default=False),
        "ipamDriver": _replace(f"{_NETWORK_GO}:85", default="default"),
        "ipamOptions": _replace(f"{_NETWORK_GO}:92"),
    },
    VOLUME: {
        "name": _replace(f"{_VOLUME_GO}:46", computed=True),
        "labels": _replace(f"{_VOLUME_GO}:52", unordered=True),
        "driver": _replace(f"{_VOLUME_GO}:60", computed=True),
        "driverOpts": _replace(f"{_VOLUME_GO}:66"),
    },
    REMOTE_IMAGE: {
        "name": _replace(f"{_IMAGE_GO}:40"),
        "keepLocally": _update(f"{_IMAGE_GO}:55", default=False),
    },
    # Services update in place through ServiceUpdate (every part of the spec at
    # once, service_funcs.go:169); only the name, the mode block's shape, the
    # registry auth and the network attachments are force-new. The state is flat
    # (harness/service.py): one row per part.
    SERVICE: {
        "name": _replace(f"{_SERVICE_GO}:58"),
        "labels": _update(f"{_SERVICE_GO}:60", computed=True, unordered=True),
        f"{_SPEC}.image": _update(f"{_SERVICE_GO}:81"),
        f"{_SPEC}.env": _update(f"{_SERVICE_GO}:109"),
        f"{_SPEC}.commands": _update(f"{_SERVICE_GO}:92"),
        f"{_SPEC}.mounts": _update(f"{_SERVICE_GO}:201", unordered=True),
        f"{_SPEC}.stopGracePeriod": _update(f"{_SERVICE_GO}:305", computed=True),
        f"{_SPEC}.healthcheck": _update(f"{_SERVICE_GO}:312", computed=True),
        f"{_SPEC}.secrets": _update(f"{_SERVICE_GO}:409", unordered=True),
        f"{_SPEC}.configs": _update(f"{_SERVICE_GO}:452", unordered=True),
        f"{_SPEC}.isolation": _update(f"{_SERVICE_GO}:495", default="default"),
        "taskSpec.placement.constraints": _update(f"{_SERVICE_GO}:645", unordered=True),
        "taskSpec.placement.maxReplicas": _update(f"{_SERVICE_GO}:659", default=0),
        "taskSpec.placement.platforms": _update(f"{_SERVICE_GO}:665", unordered=True),
        "taskSpec.restartPolicy": _update(f"{_SERVICE_GO}:602", computed=True),
        "taskSpec.networksAdvanced": _replace(f"{_SERVICE_GO}:707-732", unordered=True),
        "taskSpec.logDriver": _update(f"{_SERVICE_GO}:738"),
        # `mode` is force-new (:768) as a block: in the SDK a nested attribute's own
        # schema decides, so a new replica count is an update.
        "mode.replicated.replicas": _update(f"{_SERVICE_GO}:780", default=1),
        "updateConfig": _update(f"{_SERVICE_GO}:800"),
        "rollbackConfig": _update(f"{_SERVICE_GO}:853"),
        "endpointSpec": _update(f"{_SERVICE_GO}:906", computed=True),
        # Never read back (service_funcs.go:109-166): the state keeps the input.
        "convergeConfig": _update(f"{_SERVICE_GO}:963"),
    },
    # Docker cannot change either: every input is force-new. A secret's data is
    # never read back (secret.go:137), a config's is (config.go:113).
    SECRET: {
        "name": _replace(f"{_SECRET_GO}:27"),
        "data": _replace(f"{_SECRET_GO}:35"),
    },
    SERVICE_CONFIG: {
        "name": _replace(f"{_CONFIG_GO}:31"),
        "data": _replace(f"{_CONFIG_GO}:38"),
    },
    # The native Image diffs its old inputs against the new ones and answers
    # every difference with an update, a new build (pulumi-docker
    # provider/provider.go:271 Diff, :428 Update); `contextDigest` is the hash
    # of the build context that Check adds (provider.go:202).
    IMAGE: {
        "imageName": _update("provider/provider.go:271"),
        "skipPush": _update("provider/provider.go:271"),
        "build": _update("provider/provider.go:271"),
    },
    CONTAINER: {
        "name": _replace(f"{_CONTAINER_GO}:54"),
        "image": _replace(f"{_CONTAINER_GO}:145"),
        "command": _replace(f"{_CONTAINER_GO}:163", computed=True),
        "entrypoints": _replace(f"{_CONTAINER_GO}:176", computed=True),
        "restart": _update(f"{_CONTAINER_GO}:230"),
        "mounts": _replace(f"{_CONTAINER_GO}:332", unordered=True),
        "ports": _replace(f"{_CONTAINER_GO}:491"),
        "envs": _replace(f"{_CONTAINER_GO}:594", computed=True, unordered=True),
        "destroyGraceSeconds": _update(f"{_CONTAINER_GO}:827"),
        "logDriver": _replace(f"{_CONTAINER_GO}:891", computed=True),
        "networkMode": _replace(f"{_CONTAINER_GO}:905", default="bridge"),
        "networksAdvanced": _replace(f"{_CONTAINER_GO}:913", unordered=True),
        "uploads": _replace(f"{_CONTAINER_GO}:991", unordered=True),
        "healthcheck": _update(f"{_CONTAINER_GO}:1045", computed=True),
        "wait": _update(f"{_CONTAINER_GO}:79", default=False),
        "waitTimeout": _update(f"{_CONTAINER_GO}:86"),
        "mustRun": _update(f"{_CONTAINER_GO}:122", default=True),
    },
}

# pulumi-docker provider/resources.go:114 (DeleteBeforeReplace: true): a
# container's name is fixed, so the old one is deleted before the new one is
# made. Other types are created first, then the old one is deleted.
DELETE_BEFORE_REPLACE = {CONTAINER}

# pulumi-docker provider/resources.go:404, SetAutonaming(255, "-"): a resource whose
# `name` is left unset gets its logical name, "-" and 7 random characters
# (pulumi-terraform-bridge pkg/tfbridge/info/autonaming.go:94-160, the same at
# v3.136.0 and at its later HEAD; pulumi-docker pins v3.137.0): the
# same name on every up, a new one when it is replaced.
AUTONAMED = {SECRET, SERVICE_CONFIG}
