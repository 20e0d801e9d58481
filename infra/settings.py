"""The stack's settings: every config key, its type and its one default.

Defaults are declared here and nowhere else (not in Pulumi.yaml): Pulumi's mock
runtime does not read a project's config block, and the tests must see exactly
what `pulumi up` sees. The configuration table of docs/configuration.md is
checked against this class by tests/program/test_config.py. Reading and checking
them in a Pulumi program is infra/config.py's; this module does not import Pulumi,
so that the scripts that name the stack's containers (scripts/stack_names.py, run
by every `make up`) do not pay for loading it.
"""

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pulumi

PASSWORD_KEY = "dbPassword"  # noqa: S105 - a config key, not a password
API_PASSWORD_KEY = "dbApiPassword"  # noqa: S105 - a config key, not a password
# Each secret config key and the StackConfig field it fills: the owner's password
# (the database's superuser, which runs the migrations) and the API role's.
SECRETS = {PASSWORD_KEY: "db_password", API_PASSWORD_KEY: "db_api_password"}


@dataclasses.dataclass(frozen=True)
class StackConfig:
    # The database password is stack config, not a generated resource: a new
    # password on the next `up` would not match the one the retained volume
    # was initialised with.
    db_password: "pulumi.Output[str]"
    # The API's own role (db/migrations/0005): it may read and write what the API
    # does, and nothing more; only the migrator holds the owner's password.
    db_api_password: "pulumi.Output[str]"

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
