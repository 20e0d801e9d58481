"""A docker.Service's forms in terraform-provider-docker v4.5.0, as the harness
keeps them (resource_docker_service.go for the inputs and their defaults,
resource_docker_service_structures.go for what is read back, cited by line):

- `declared(inputs)`: the program's inputs as the harness's flat state keys
  ("taskSpec.containerSpec.image", ...; schema.RULES has a row for each);
- `read_back(service, state)`: what the provider reads back into its state.

What is sent to Docker, from that state, is service_request.py's.
"""

from testing.harness.errors import HarnessError
from testing.harness.inputs import Inputs, format_duration, label_blocks, parse_duration
from testing.harness.schema import LEFT_OUT


def short_duration(nanoseconds: int) -> str:
    """shortDur (structures.go:1341): Duration.String() without a trailing "0s" or "0m"."""
    text = format_duration(nanoseconds)
    if text.endswith("m0s"):
        text = text[:-2]
    if text.endswith("h0m"):
        text = text[:-2]
    return text


def _duration(text: str | None) -> str | None:
    """A declared duration, validated (validateDurationGeq0) and kept as written: no
    DiffSuppressFunc on any of the service's durations, so "2m0s" declared differs
    from the "2m" that shortDur reads back."""
    if text is not None and parse_duration(text) < 0:
        raise HarnessError(f"duration {text!r} must be 0 or more")
    return text


def declared(inputs: Inputs) -> dict:
    """The inputs as flat state keys, the schema's defaults filled in
    (resource_docker_service.go)."""
    task = inputs.block("taskSpec")
    if task is None:
        raise HarnessError(f"{inputs.where}: input taskSpec is required")
    spec = task.block("containerSpec")
    placement = task.block("placement")
    restart = task.block("restartPolicy")
    log_driver = task.block("logDriver")
    mode = inputs.block("mode")
    replicated = mode.block("replicated") if mode else None
    endpoint = inputs.block("endpointSpec")
    converge = inputs.block("convergeConfig")
    news = {
        "name": inputs.require("name"),
        "taskSpec.containerSpec.image": spec.require("image"),
        "taskSpec.containerSpec.env": spec.get("env"),
        "taskSpec.containerSpec.commands": spec.get("commands"),
        "taskSpec.containerSpec.healthcheck": _healthcheck(spec.block("healthcheck")),
        "taskSpec.containerSpec.mounts": [_mount(m) for m in spec.blocks("mounts")],
        "taskSpec.containerSpec.secrets": [_secret(s) for s in spec.blocks("secrets")],
        "taskSpec.containerSpec.configs": [_config(c) for c in spec.blocks("configs")],
        "taskSpec.containerSpec.stopGracePeriod": _duration(spec.get("stopGracePeriod")),
        "taskSpec.containerSpec.isolation": "default",  # service.go:498, the default
        "taskSpec.networksAdvanced": [_network(n) for n in task.blocks("networksAdvanceds")],
        # service.go:637-684: the placement block is Optional and Computed, its parts
        # are not. Left out, the block is the state's, platforms included; declared,
        # a part it leaves out is empty.
        "taskSpec.placement.constraints": placement.get("constraints") if placement else LEFT_OUT,
        "taskSpec.placement.maxReplicas": (
            placement.int("maxReplicas", 0) if placement else LEFT_OUT
        ),
        "taskSpec.placement.platforms": None if placement else LEFT_OUT,
        # service.go:602-635: Optional and Computed too.
        "taskSpec.restartPolicy": _restart_policy(restart) if restart else LEFT_OUT,
        "taskSpec.logDriver": {"name": log_driver.require("name")} if log_driver else None,
        "mode.replicated.replicas": replicated.int("replicas", 1) if replicated else 1,
        "updateConfig": _update_config(inputs.block("updateConfig")),
        "rollbackConfig": _update_config(inputs.block("rollbackConfig")),
        "endpointSpec": _endpoint(endpoint),
        "convergeConfig": {
            # service.go:971-982: delay 7s and timeout 3m by default.
            "delay": converge.get("delay", "7s"),
            "timeout": converge.get("timeout", "3m"),
        }
        if converge
        else None,
    }
    for block in (spec, placement, restart, log_driver, replicated, mode, task, endpoint, converge):
        if block is not None:
            block.done()
    inputs.done()
    return news


def read_back(service: dict, state: dict) -> dict:
    """A service as the provider reads it back into its state (funcs.go:109-166,
    structures.go:23-587)."""
    spec = service["Spec"]
    task = spec["TaskTemplate"]
    container = task.get("ContainerSpec") or {}
    placement = task.get("Placement") or {}
    read = dict(state)
    read.update(
        {
            "name": spec["Name"],
            "labels": label_blocks(spec.get("Labels")),
            "taskSpec.containerSpec.image": container.get("Image"),
            "taskSpec.containerSpec.env": dict(
                line.split("=", 1) for line in container.get("Env") or []
            )
            or None,
            "taskSpec.containerSpec.commands": container.get("Command"),
            "taskSpec.containerSpec.healthcheck": _healthcheck_of(container.get("Healthcheck")),
            "taskSpec.containerSpec.mounts": [
                {
                    "type": m["Type"],
                    "source": m.get("Source", ""),
                    "target": m["Target"],
                    "readOnly": m.get("ReadOnly", False),
                }
                for m in container.get("Mounts") or []
            ],
            "taskSpec.containerSpec.secrets": [
                _file_reference(s, "secret") for s in container.get("Secrets") or []
            ],
            "taskSpec.containerSpec.configs": [
                _file_reference(c, "config") for c in container.get("Configs") or []
            ],
            "taskSpec.containerSpec.stopGracePeriod": (
                short_duration(container["StopGracePeriod"])
                if container.get("StopGracePeriod") is not None
                else None
            ),
            "taskSpec.containerSpec.isolation": container.get("Isolation") or None,
            # structures.go:526: the attachment's Target, as given: an ID stays an ID.
            "taskSpec.networksAdvanced": [
                {
                    "id": n["Target"],
                    "name": None,
                    "aliases": sorted(n.get("Aliases") or []) or None,
                }
                for n in task.get("Networks") or []
            ],
            "taskSpec.placement.constraints": placement.get("Constraints"),
            "taskSpec.placement.maxReplicas": placement.get("MaxReplicas", 0),
            "taskSpec.placement.platforms": [
                {"architecture": p.get("Architecture", ""), "os": p.get("OS", "")}
                for p in placement.get("Platforms") or []
            ],
            "taskSpec.restartPolicy": restart_policy_of(task.get("RestartPolicy")),
            "taskSpec.logDriver": (
                {"name": task["LogDriver"]["Name"]} if task.get("LogDriver") else None
            ),
            "mode.replicated.replicas": (spec["Mode"].get("Replicated") or {}).get("Replicas"),
            "updateConfig": _update_config_of(spec.get("UpdateConfig")),
            "rollbackConfig": _update_config_of(spec.get("RollbackConfig")),
            # funcs.go:153-163: the endpoint as it is, else as specified.
            "endpointSpec": _endpoint_of(
                service["Endpoint"]
                if service.get("Endpoint", {}).get("Spec", {}).get("Mode")
                else {
                    "Spec": spec.get("EndpointSpec") or {},
                    "Ports": (spec.get("EndpointSpec") or {}).get("Ports"),
                }
            ),
        }
    )
    return read


# -- inputs, with the schema's defaults (resource_docker_service.go) ----------------------


def _healthcheck(block: Inputs | None) -> dict | None:
    if block is None:
        return None
    healthcheck = {
        "tests": block.require("tests"),
        # service.go:326-350: "0s" and 0 by default.
        "interval": _duration(block.get("interval", "0s")),
        "timeout": _duration(block.get("timeout", "0s")),
        "startPeriod": _duration(block.get("startPeriod", "0s")),
        "retries": block.int("retries", 0),
    }
    block.done()
    return healthcheck


def _restart_policy(block: Inputs) -> dict:
    """service.go:610-632: no part has a default; one left out is Terraform's zero
    value ("" for a duration), which is what createRestartPolicy then sends."""
    policy = {
        "condition": block.get("condition", ""),
        "delay": _duration(block.get("delay")) or "",
        "maxAttempts": block.int("maxAttempts", 0),
        "window": _duration(block.get("window")) or "",
    }
    block.done()
    return policy


def restart_policy_of(policy: dict | None) -> dict | None:
    """flattenTaskRestartPolicy (structures.go:456-478): a delay or window Docker does
    not hold is absent, "" in the state; MaxAttempts is always there."""
    if policy is None:
        return None
    return {
        "condition": policy.get("Condition", ""),
        "delay": short_duration(policy["Delay"]) if "Delay" in policy else "",
        "maxAttempts": policy.get("MaxAttempts", 0),
        "window": short_duration(policy["Window"]) if "Window" in policy else "",
    }


def _mount(block: Inputs) -> dict:
    mount = {
        "type": block.require("type"),
        "source": block.get("source", ""),
        "target": block.require("target"),
        "readOnly": block.bool("readOnly", False),
    }
    block.done()
    return mount


def _file_reference(block, kind: str) -> dict:
    """A secret or config as structures.go:344-396 reads it back."""
    file = block.get("File") or {}
    return {
        f"{kind}Id": block[f"{kind.capitalize()}ID"],
        f"{kind}Name": block.get(f"{kind.capitalize()}Name"),
        "fileName": file.get("Name"),
        "fileUid": file.get("UID") or None,
        "fileGid": file.get("GID") or None,
        "fileMode": file.get("Mode"),
    }


def _reference(block: Inputs, kind: str) -> dict:
    reference = {
        f"{kind}Id": block.require(f"{kind}Id"),
        f"{kind}Name": block.get(f"{kind}Name"),
        "fileName": block.require("fileName"),
        # service.go:430-446 (secrets), :473-489 (configs): root's, 0444 by default.
        "fileUid": block.get("fileUid", "0"),
        "fileGid": block.get("fileGid", "0"),
        "fileMode": block.int("fileMode", 0o444),
    }
    block.done()
    return reference


def _secret(block: Inputs) -> dict:
    return _reference(block, "secret")


def _config(block: Inputs) -> dict:
    return _reference(block, "config")


def _network(block: Inputs) -> dict:
    # structures.go:1138-1163: the attachment's target is the id, else the name. Read
    # gives back the id only, so a network named (even by its ID) in `name`
    # differs on every up, and the block is force-new.
    network = {
        "id": block.get("id"),
        "name": block.get("name"),
        "aliases": sorted(block.get("aliases") or []) or None,
    }
    if not (network["id"] or network["name"]):
        raise HarnessError(f"{block.where}: network 'name' or 'id' must be specified")
    block.done()
    return network


def _update_config(block: Inputs | None) -> dict | None:
    if block is None:
        return None
    # service.go:807-849 (update_config) and :860-902 (rollback_config): the defaults.
    config = {
        "parallelism": block.int("parallelism", 1),
        "delay": _duration(block.get("delay", "0s")),
        "failureAction": block.get("failureAction", "pause"),
        "monitor": _duration(block.get("monitor", "5s")),
        "maxFailureRatio": f"{float(block.get('maxFailureRatio', '0.0')):.1f}",
        "order": block.get("order", "stop-first"),
    }
    block.done()
    return config


def _update_config_of(config: dict | None) -> dict | None:
    """structures.go:78-93."""
    if config is None:
        return None
    return {
        "parallelism": config.get("Parallelism", 0),
        "delay": short_duration(config.get("Delay", 0)),
        "failureAction": config.get("FailureAction", ""),
        "monitor": short_duration(config.get("Monitor", 0)),
        "maxFailureRatio": f"{float(config.get('MaxFailureRatio', 0)):.1f}",
        "order": config.get("Order", ""),
    }


def _endpoint(block: Inputs | None) -> dict | None:
    if block is None:
        return None
    ports = []
    for port in block.blocks("ports"):
        ports.append(
            {
                "name": port.get("name"),
                "protocol": port.get("protocol", "tcp"),  # service.go:935
                "targetPort": port.int("targetPort"),
                "publishedPort": port.int("publishedPort"),
                "publishMode": port.get("publishMode", "ingress"),  # service.go:953
            }
        )
        port.done()
    endpoint = {"mode": block.get("mode"), "ports": ports}
    block.done()
    return endpoint


def _endpoint_of(endpoint: dict) -> dict:
    """structures.go:95-113 and 568-587."""
    return {
        "mode": endpoint["Spec"].get("Mode"),
        "ports": [
            {
                "name": p.get("Name") or None,
                "protocol": p.get("Protocol"),
                "targetPort": p.get("TargetPort"),
                "publishedPort": p.get("PublishedPort"),
                "publishMode": p.get("PublishMode"),
            }
            for p in endpoint.get("Ports") or []
        ],
    }


def _healthcheck_of(config: dict | None) -> dict | None:
    """structures.go:289-305."""
    if config is None:
        return None
    return {
        "tests": config.get("Test"),
        "interval": short_duration(config.get("Interval", 0)),
        "timeout": short_duration(config.get("Timeout", 0)),
        "startPeriod": short_duration(config.get("StartPeriod", 0)),
        "retries": config.get("Retries", 0),
    }
