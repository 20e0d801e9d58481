"""Stack configuration as a Pulumi program reads it: the stack's config, with the
defaults of infra/settings.py, checked before any resource is declared.
"""

import ipaddress
import re

import pulumi

from infra.settings import SECRETS, StackConfig, config_key, settable_fields


def set_secret_command(key: str) -> str:
    return (
        f"pulumi config set --secret {key} "
        "\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\""
    )


class ConfigError(pulumi.RunError):
    """A config value the program cannot use; raised before any resource is declared."""


def load(config: pulumi.Config | None = None) -> StackConfig:
    config = config or pulumi.Config()
    secrets = {field: config.get_secret(key) for key, field in SECRETS.items()}
    missing = [key for key, field in SECRETS.items() if secrets[field] is None]
    if missing:
        raise ConfigError(
            f"The stack has no {' and no '.join(missing)} (database passwords); "
            "nothing was changed.\n"
            "`make up` generates them the first time. With plain pulumi, set each once "
            "per stack:\n" + "".join(f"    {set_secret_command(key)}\n" for key in missing)
        )
    values = {}
    for field in settable_fields():
        getter = {str: config.get, int: config.get_int, bool: config.get_bool}[field.type]
        value = getter(config_key(field.name))
        if value is not None:
            values[field.name] = value
    stack_config = StackConfig(**secrets, **values)
    validate(stack_config)
    return stack_config


_DOCKER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
TARGETS = ("host", "swarm")
# A registry as an image reference starts with it: a host, an optional port, optional paths.
_REGISTRY = re.compile(
    r"[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)*"
)
_HOST = re.compile(r"[a-zA-Z0-9.-]+|\[[0-9a-fA-F:]+\]")
# Node labels as Docker accepts them in a placement constraint.
_NODE_LABEL = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def validate(config: StackConfig) -> None:
    def fail(field: str, problem: str) -> None:
        raise ConfigError(f"config {config_key(field)}={getattr(config, field)!r}: {problem}")

    for field in (
        "network_name",
        "volume_name",
        "db_container_name",
        "app_container_name",
        "reader_container_name",
        "migrator_container_name",
        "db_alias",
        "app_alias",
    ):
        if not _DOCKER_NAME.fullmatch(getattr(config, field)):
            fail(
                field,
                "must start with a letter or digit and use only letters, digits, '_', '.', '-'",
            )
    for field in ("db_name", "db_user"):
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", getattr(config, field)):
            fail(field, "must be a lower-case PostgreSQL identifier")
    if not 1 <= config.app_host_port <= 65535:
        fail("app_host_port", "must be a port between 1 and 65535")
    if not 0 <= config.db_host_port <= 65535:
        fail("db_host_port", "must be 0 (not published) or a port between 1 and 65535")
    for field in ("app_bind_address", "db_bind_address"):
        try:
            ipaddress.ip_address(getattr(config, field))
        except ValueError:
            fail(field, "must be an IP address such as 127.0.0.1 or 0.0.0.0")
    if config.healthcheck_start_interval_seconds < 0:
        fail("healthcheck_start_interval_seconds", "must be 0 (off) or a number of seconds")
    if config.target not in TARGETS:
        fail("target", f"must be one of {', '.join(TARGETS)}")
    if config.target == "swarm":
        validate_swarm(config, fail)
    for field in (
        "app_workers",
        "app_threads",
        "app_replicas",
        "reader_interval_seconds",
        "healthcheck_interval_seconds",
        "start_timeout_seconds",
    ):
        if getattr(config, field) < 1:
            fail(field, "must be at least 1")


def validate_swarm(config: StackConfig, fail) -> None:
    if not config.registry:
        fail(
            "registry",
            "target swarm needs the registry its nodes pull the app image from, "
            "e.g. registry.example.com:5000",
        )
    if not _REGISTRY.fullmatch(config.registry):
        fail("registry", "must be host[:port][/path], e.g. registry.example.com:5000")
    if config.db_host_port:
        fail(
            "db_host_port",
            "must be 0 on a swarm: it would publish PostgreSQL on every interface of every "
            "node; use `docker exec` on the database's node instead",
        )
    if not _HOST.fullmatch(config.app_public_host):
        fail("app_public_host", "must be a host name or address, e.g. app.example.com")
    if not _NODE_LABEL.fullmatch(config.db_node_label):
        fail("db_node_label", "must be a node label such as desafio2.db")
