"""docker.Secret and docker.ServiceConfig: named data kept by the swarm, as
terraform-provider-docker v4.5.0 makes and reads them
(internal/provider/resource_docker_secret.go, resource_docker_config.go).

Both are immutable in Docker: every input is force-new, and the program leaves
the name to Pulumi's auto-naming, so a replacement gets a new name (engine.py).
"""

import base64
import binascii
import contextlib

import docker
import docker.errors

from tests.e2e.harness.errors import HarnessError
from tests.e2e.harness.inputs import Inputs


def _decoded(inputs: Inputs, text: str) -> bytes:
    # validateStringIsBase64Encoded (resource_docker_secret.go:36, _config.go:40)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise HarnessError(f"{inputs.where}: data must be base64-encoded") from None


class SecretHandler:
    def __init__(self, client: docker.DockerClient):
        self.api = client.api

    def check(self, inputs: Inputs) -> dict:
        news = {"name": inputs.get("name"), "data": inputs.require("data")}
        _decoded(inputs, news["data"])
        inputs.done()
        return news

    def create(self, news: dict, record) -> tuple[str, dict]:
        # resource_docker_secret.go:91-118
        try:
            created = self.api.create_secret(news["name"], base64.b64decode(news["data"]))
        except docker.errors.APIError as error:
            raise HarnessError(f"Error creating secret: {error.explanation}") from None
        record(created["ID"], dict(news))
        return created["ID"], dict(news)

    def read(self, realized) -> dict | None:
        # resource_docker_secret.go:120-141: the name only; Docker never gives the
        # data back, so the state keeps what was declared.
        try:
            attrs = self.api.inspect_secret(realized.id)
        except docker.errors.NotFound:
            return None
        return {**realized.outputs, "name": attrs["Spec"]["Name"]}

    def update(self, realized, news: dict, changed: set[str]) -> dict:
        return {**realized.outputs, **news}

    def delete(self, realized) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self.api.remove_secret(realized.id)


class ServiceConfigHandler:
    def __init__(self, client: docker.DockerClient):
        self.api = client.api

    def check(self, inputs: Inputs) -> dict:
        news = {"name": inputs.get("name"), "data": inputs.require("data")}
        _decoded(inputs, news["data"])
        inputs.done()
        return news

    def create(self, news: dict, record) -> tuple[str, dict]:
        # resource_docker_config.go:60-87
        try:
            created = self.api.create_config(news["name"], base64.b64decode(news["data"]))
        except docker.errors.APIError as error:
            raise HarnessError(f"Error creating config: {error.explanation}") from None
        record(created["ID"], dict(news))
        return created["ID"], self._read(created["ID"])

    def _read(self, config_id: str) -> dict | None:
        # resource_docker_config.go:89-121: the data read back, base64 (StdEncoding).
        try:
            attrs = self.api.inspect_config(config_id)
        except docker.errors.NotFound:
            return None
        return {
            "name": attrs["Spec"]["Name"],
            "data": attrs["Spec"].get("Data") or "",
        }

    def read(self, realized) -> dict | None:
        return self._read(realized.id)

    def update(self, realized, news: dict, changed: set[str]) -> dict:
        return {**realized.outputs, **news}

    def delete(self, realized) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self.api.remove_config(realized.id)
