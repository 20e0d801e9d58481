"""A stack's volume holding a data directory that PostgreSQL 15 refuses to start on
(the mark of another major version), and the same put right: the database that
cannot start, in the tests of what an up says when a container fails."""

import docker

UNUSABLE = "echo 99 > /data/PG_VERSION && touch /data/postgresql.conf"
REPAIR = "rm /data/PG_VERSION /data/postgresql.conf"
# What the database logs on such a volume.
REFUSAL = "database files are incompatible with server"


def _in_volume(client: docker.DockerClient, volume: str, image: str, command: str) -> None:
    client.containers.run(
        image,
        ["sh", "-c", command],
        entrypoint=[],
        user="root",
        volumes={volume: {"bind": "/data", "mode": "rw"}},
        remove=True,
    )


def make_unusable(client: docker.DockerClient, volume: str, image: str) -> None:
    """The volume (made if missing) with an unusable data directory; image has a shell."""
    client.volumes.create(volume)
    _in_volume(client, volume, image, UNUSABLE)


def repair(client: docker.DockerClient, volume: str, image: str) -> None:
    _in_volume(client, volume, image, REPAIR)
