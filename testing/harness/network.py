"""docker.Network, as terraform-provider-docker v4.5.0 makes and reads it
(internal/provider/resource_docker_network_funcs.go)."""

import contextlib

import docker
import docker.errors

from testing.harness.errors import HarnessError
from testing.harness.inputs import Inputs, label_blocks


class NetworkHandler:
    def __init__(self, client: docker.DockerClient):
        self.client = client

    def check(self, inputs: Inputs) -> dict:
        news = {"name": inputs.require("name"), "driver": inputs.get("driver")}
        inputs.done()
        return news

    def create(self, news: dict, record) -> tuple[str, dict]:
        # The Go client asks the engine to refuse a name already taken when the
        # API is older than 1.44, and newer engines always refuse it (moby
        # client/network_create.go: CheckDuplicate below 1.44).
        try:
            created = self.client.networks.create(
                news["name"], driver=news["driver"], check_duplicate=True
            )
        except docker.errors.APIError as error:
            raise HarnessError(f"Unable to create network: {error.explanation}") from None
        record(created.id, {**news})
        return created.id, self.read_by_id(created.id)

    def read_by_id(self, network_id: str) -> dict | None:
        try:
            attrs = self.client.api.inspect_network(network_id)
        except docker.errors.NotFound:
            return None
        # resource_docker_network_funcs.go:175-196
        return {
            "name": attrs["Name"],
            "labels": label_blocks(attrs.get("Labels")),
            "driver": attrs["Driver"],
            "internal": attrs["Internal"],
            "attachable": attrs["Attachable"],
            "ingress": attrs["Ingress"],
            "ipv6": attrs["EnableIPv6"],
            "ipamDriver": attrs["IPAM"]["Driver"],
            "ipamOptions": attrs["IPAM"].get("Options") or None,
            "scope": attrs["Scope"],
        }

    def read(self, realized) -> dict | None:
        return self.read_by_id(realized.id)

    def update(self, realized, news: dict, changed: set[str]) -> dict:
        return {**realized.outputs, **news}

    def delete(self, realized) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self.client.api.remove_network(realized.id)
