#!/usr/bin/env python3
"""What the stack names in Docker, read from its config file (Pulumi.<stack>.yaml)
with the program's defaults (infra/settings.py): the containers, or on a swarm the
services, the network and the volume. Printed as KEY=value lines keyed as the
stack's outputs are (dbContainer, ..., on a swarm dbService, ...).

scripts/lib.sh reads these rather than `pulumi stack output` when the file is
here: they are what the last `make up` set out to make, even when it failed
before exporting any output, and reading them costs no Pulumi CLI call.
"""

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from infra.settings import backup_volume_name, config_key, defaults  # through the path above

PROJECT = "desafio2"
ROLES = {
    "db": "db_container_name",
    "migrator": "migrator_container_name",
    "app": "app_container_name",
    "reader": "reader_container_name",
}


def names(config: dict) -> dict[str, str]:
    default = defaults()

    def value(field: str) -> str:
        return str(config.get(f"{PROJECT}:{config_key(field)}", getattr(default, field)))

    kind = "Service" if value("target") == "swarm" else "Container"
    return {
        **{f"{role}{kind}": value(field) for role, field in ROLES.items()},
        "networkName": value("network_name"),
        "volumeName": value("volume_name"),
        "backupVolumeName": backup_volume_name(value("volume_name")),
    }


def main() -> int:
    (stack_file,) = sys.argv[1:]
    config = (yaml.safe_load(Path(stack_file).read_text(encoding="utf-8")) or {}).get("config")
    for key, value in names(config or {}).items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
