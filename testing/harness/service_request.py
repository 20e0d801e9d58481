"""What terraform-provider-docker v4.5.0 sends to Docker for a docker.Service, on
create and on update alike: the spec built from its state by
resource_docker_service_structures.go:589-1340 (cited by line), then handed to
moby's client, which changes the image's form before it sends it.

`to_spec(state, env_order)` gives the keyword arguments of docker-py's
create_service / update_service for a state in service_spec.py's flat form.
"""

import random

from docker.utils import parse_repository_tag

from testing.harness.inputs import parse_duration
from testing.harness.schema import LEFT_OUT


def image_as_sent(image: str) -> str:
    """What moby's client makes of a service's image before it sends it, on create and
    on update (client/service_create.go and service_update.go, imageWithTagString):
    the familiar form of the name (no docker.io/, no library/), with `:latest` when
    it has neither tag nor digest. Docker stores that, and the provider reads it back."""
    name, _, digest = image.partition("@")
    repository, tag = parse_repository_tag(name)
    repository = repository.removeprefix("docker.io/")
    if repository.startswith("library/") and repository.count("/") == 1:
        repository = repository.removeprefix("library/")
    if not tag and not digest:
        tag = "latest"
    return repository + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def env_as_sent(env: dict[str, str] | None, order: random.Random) -> list[str]:
    """NAME=value in Go's map iteration order (createContainerSpec, structures.go:729,
    through mapTypeMapValsToStringSlice, resource_docker_container_structures.go:218-226,
    which ranges over the map): not the program's order, and a new one on each call,
    which `order` stands for. An empty name is dropped (:222)."""
    lines = [f"{name}={value}" for name, value in (env or {}).items() if name]
    order.shuffle(lines)
    return lines


def _given(value):
    """A part of a block the program left out is, on create, the schema's zero value
    (the plan has nothing for it yet); an update has the state's value instead."""
    return None if value is LEFT_OUT else value


def restart_policy_as_sent(policy: dict | None) -> dict:
    """createRestartPolicy (structures.go:1084-1109). With no block, an empty policy,
    which Docker fills with its condition alone. With one (declared, or the state's
    after create), every part is sent: a delay or window that is unset, the state's ""
    when Docker held none, is parsed with the error ignored (:1097, :1105) and goes
    as 0. (A declared one that Go would not parse is refused before, at validation.)"""
    if not policy:
        return {}
    return {
        "Condition": policy["condition"],
        "Delay": _nanoseconds(policy["delay"]),
        "MaxAttempts": policy["maxAttempts"],
        "Window": _nanoseconds(policy["window"]),
    }


def _nanoseconds(text: str | None) -> int:
    return parse_duration(text) if text else 0


def _file(reference: dict, kind: str) -> dict:
    return {
        f"{kind.capitalize()}ID": reference[f"{kind}Id"],
        f"{kind.capitalize()}Name": reference[f"{kind}Name"],
        "File": {
            "Name": reference["fileName"],
            "UID": reference["fileUid"],
            "GID": reference["fileGid"],
            "Mode": reference["fileMode"],
        },
    }


def _update_spec(config: dict | None) -> dict | None:
    if config is None:
        return None
    return {
        "Parallelism": config["parallelism"],
        "Delay": _nanoseconds(config["delay"]),
        "FailureAction": config["failureAction"],
        "Monitor": _nanoseconds(config["monitor"]),
        "MaxFailureRatio": float(config["maxFailureRatio"]),
        "Order": config["order"],
    }


def to_spec(news: dict, env_order: random.Random) -> dict:
    """Keyword arguments of docker-py's create_service / update_service."""
    healthcheck = news["taskSpec.containerSpec.healthcheck"]
    container_spec = {
        # moby's client sends the image in this form, on create (before it asks the
        # registry) and on update alike.
        "Image": image_as_sent(news["taskSpec.containerSpec.image"]),
        "Env": env_as_sent(news["taskSpec.containerSpec.env"], env_order),
        "Command": news["taskSpec.containerSpec.commands"],
        "Mounts": [
            {
                "Type": m["type"],
                "Source": m["source"],
                "Target": m["target"],
                "ReadOnly": m["readOnly"],
            }
            for m in news["taskSpec.containerSpec.mounts"]
        ],
        "Secrets": [_file(s, "secret") for s in news["taskSpec.containerSpec.secrets"]],
        "Configs": [_file(c, "config") for c in news["taskSpec.containerSpec.configs"]],
        "Isolation": news["taskSpec.containerSpec.isolation"],
    }
    if healthcheck is not None:
        container_spec["Healthcheck"] = {
            "Test": healthcheck["tests"],
            "Interval": _nanoseconds(healthcheck["interval"]),
            "Timeout": _nanoseconds(healthcheck["timeout"]),
            "StartPeriod": _nanoseconds(healthcheck["startPeriod"]),
            "Retries": healthcheck["retries"],
        }
    if news["taskSpec.containerSpec.stopGracePeriod"] is not None:
        container_spec["StopGracePeriod"] = _nanoseconds(
            news["taskSpec.containerSpec.stopGracePeriod"]
        )
    placement = {
        "Constraints": _given(news["taskSpec.placement.constraints"]),
        "MaxReplicas": _given(news["taskSpec.placement.maxReplicas"]) or 0,
        "Platforms": [
            {"Architecture": p["architecture"], "OS": p["os"]}
            for p in _given(news["taskSpec.placement.platforms"]) or []
        ],
    }
    task_template = {
        "ContainerSpec": {k: v for k, v in container_spec.items() if v not in (None, [])},
        "Networks": [
            {"Target": n["id"] or n["name"], "Aliases": n["aliases"]}
            for n in news["taskSpec.networksAdvanced"]
        ],
        "Placement": {k: v for k, v in placement.items() if v not in (None, [])},
        # structures.go:667-672: always built, from an empty block when there is none.
        "RestartPolicy": restart_policy_as_sent(_given(news["taskSpec.restartPolicy"])),
    }
    if news["taskSpec.logDriver"]:
        task_template["LogDriver"] = {"Name": news["taskSpec.logDriver"]["name"]}
    endpoint = news["endpointSpec"] or {"mode": None, "ports": []}
    return {
        "task_template": task_template,
        "name": news["name"],
        "mode": {"Replicated": {"Replicas": news["mode.replicated.replicas"]}},
        "update_config": _update_spec(news["updateConfig"]),
        "rollback_config": _update_spec(news["rollbackConfig"]),
        # structures.go:1240: an endpoint spec is always sent; without a mode, Docker's (vip).
        "endpoint_spec": {
            "Mode": endpoint["mode"],
            "Ports": [
                {
                    "Name": p["name"],
                    "Protocol": p["protocol"],
                    "TargetPort": p["targetPort"],
                    "PublishedPort": p["publishedPort"],
                    "PublishMode": p["publishMode"],
                }
                for p in endpoint["ports"]
            ],
        },
    }
