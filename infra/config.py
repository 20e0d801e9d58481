"""Stack configuration: every key, its type and its one default.

Defaults are declared here and nowhere else (not in Pulumi.yaml): Pulumi's mock
runtime does not read a project's config block, and the tests must see exactly
what `pulumi up` sees. The configuration table of docs/configuration.md is
checked against this class by tests/program/test_config.py.
"""

import dataclasses
import ipaddress
import re

import pulumi

PASSWORD_KEY = "dbPassword"  # noqa: S105 - a config key, not a password
API_PASSWORD_KEY = "dbApiPassword"  # noqa: S105 - a config key, not a password
# Each secret config key and the StackConfig field it fills: the owner's password
# (the database's superuser, which runs the migrations) and the API role's.
SECRETS = {PASSWORD_KEY: "db_password", API_PASSWORD_KEY: "db_api_password"}


def set_secret_command(key: str) -> str:
    return (
        f"pulumi config set --secret {key} "
        "\"$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')\""
    )


class ConfigError(pulumi.RunError):
    """A config value the program cannot use; raised before any resource is declared."""


@dataclasses.dataclass(frozen=True)
class StackConfig:
    # The database password is stack config, not a generated resource: a new
    # password on the next `up` would not match the one the retained volume
    # was initialised with.
    db_password: pulumi.Output[str]
    # The API's own role (db/migrations/0005): it may read and write what the API
    # does, and nothing more; only the migrator holds the owner's password.
    db_api_password: pulumi.Output[str]

    network_name: str = "rede-desafio2"
    volume_name: str = "dados_postgres"
    retain_volume: bool = True

    db_image: str = "postgres:15-alpine"
    db_container_name: str = "db-postgres"
    db_alias: str = "db"
    db_name: str = "aplicacao"
    db_user: str = "usuario"
    db_host_port: int = 0  # 0 keeps the database off the host
    db_bind_address: str = "127.0.0.1"
    # The step that backs up and migrates the database as its owner, then idles.
    migrator_container_name: str = "db-migracoes"

    app_image_name: str = "desafio2-app:local"
    app_container_name: str = "app-flask"
    app_alias: str = "app"
    app_host_port: int = 5000
    app_bind_address: str = "127.0.0.1"
    app_workers: int = 2
    # Two threads let a worker overlap one request's database round trip with
    # another's Python; more only queue on the GIL, which doubled the tail
    # latency on two cores (bench/README.md).
    app_threads: int = 2

    reader_image: str = "curlimages/curl:8.4.0"
    reader_container_name: str = "leitor-dados"
    reader_interval_seconds: int = 10

    # Short: Docker 20.10 runs the first check one interval after the start (common.py).
    healthcheck_interval_seconds: int = 1
    # 0 leaves it out: the provider refuses it on engines before Docker 25.
    healthcheck_start_interval_seconds: int = 0
    start_timeout_seconds: int = 120

    # Where the stack runs: "host" (containers on one Docker engine) or "swarm"
    # (services on a Docker Swarm, through one of its managers); docs/swarm.md.
    target: str = "host"
    # Swarm only: the registry the nodes pull the app image from ("host[:port][/path]").
    registry: str = ""
    app_replicas: int = 2
    # Swarm only: the name clients reach the app's nodes by (a load balancer or a
    # DNS name in front of them), for the URLs in the stack outputs.
    app_public_host: str = "localhost"
    # Swarm only: the node with this label set to "true" runs the database and holds its volume.
    db_node_label: str = "desafio2.db"


def config_key(field_name: str) -> str:
    """`app_host_port` -> `appHostPort`, the key users set with `pulumi config set`."""
    head, *rest = field_name.split("_")
    return head + "".join(word.capitalize() for word in rest)


SECRET_FIELDS = frozenset(SECRETS.values())


def settable_fields() -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(StackConfig) if f.name not in SECRET_FIELDS]


def defaults() -> StackConfig:
    """Every default, with no secret: for comparisons and names."""
    return StackConfig(**dict.fromkeys(SECRET_FIELDS))


def backup_volume_name(volume_name: str) -> str:
    """The volume the migrator writes its pre-migration backups to, beside the data's."""
    return f"{volume_name}_backups"


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
