"""docker.Volume, as terraform-provider-docker v4.5.0 makes and reads it
(internal/provider/resource_docker_volume.go)."""

import time

import docker
import docker.errors

from testing.harness.errors import HarnessError
from testing.harness.inputs import Inputs, label_blocks

# resource_docker_volume.go:362: Delete retries while the volume is in use
# (a volume stays "in use" for a moment after its last container is removed).
REMOVE_RETRY_SECONDS = 30


class VolumeHandler:
    def __init__(self, client: docker.DockerClient):
        self.client = client

    def check(self, inputs: Inputs) -> dict:
        # The program sets the name only; the other inputs are compared with what
        # Docker reads back (a volume adopted from compose has labels).
        news = {"name": inputs.get("name"), "labels": None, "driver": None, "driverOpts": None}
        inputs.done()
        return news

    def create(self, news: dict, record) -> tuple[str, dict]:
        # resource_docker_volume.go:278: VolumeCreate, which hands back the
        # volume of that name when one exists: a retained volume is adopted.
        created = self.client.volumes.create(name=news["name"])
        record(created.name, {**news})
        return created.name, self.read_by_name(created.name)

    def read_by_name(self, name: str) -> dict | None:
        try:
            attrs = self.client.api.inspect_volume(name)
        except docker.errors.NotFound:
            return None
        # resource_docker_volume.go:308-312: labels and options as Docker has them.
        return {
            "name": attrs["Name"],
            "labels": label_blocks(attrs.get("Labels")),
            "driver": attrs["Driver"],
            "driverOpts": attrs.get("Options") or None,
            "mountpoint": attrs["Mountpoint"],
        }

    def read(self, realized) -> dict | None:
        return self.read_by_name(realized.id)

    def update(self, realized, news: dict, changed: set[str]) -> dict:
        return {**realized.outputs, **news}

    def delete(self, realized) -> None:
        deadline = time.monotonic() + REMOVE_RETRY_SECONDS
        while True:
            try:
                self.client.api.remove_volume(realized.id)
                return
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as error:
                if error.status_code != 409 or time.monotonic() > deadline:
                    raise HarnessError(f"Error removing volume: {error.explanation}") from None
                time.sleep(0.5)
