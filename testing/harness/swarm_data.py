"""docker.Secret and docker.ServiceConfig: named data kept by the swarm, as
terraform-provider-docker v4.5.0 makes and reads them
(internal/provider/resource_docker_secret.go, resource_docker_config.go).

Both are immutable in Docker: every input is force-new, and the program leaves
the name to Pulumi's auto-naming, so a replacement gets a new name (engine.py).
The two differ in what is read back: a secret's data never is.
"""

import base64
import binascii
import contextlib

import docker
import docker.errors

from testing.harness.errors import HarnessError
from testing.harness.inputs import Inputs


class _SwarmData:
    kind = ""  # "secret" or "config": the Docker API's names for them

    def __init__(self, client: docker.DockerClient):
        self.api = client.api

    def check(self, inputs: Inputs) -> dict:
        news = {"name": inputs.get("name"), "data": inputs.require("data")}
        # validateStringIsBase64Encoded (resource_docker_secret.go:36, _config.go:40)
        try:
            base64.b64decode(news["data"], validate=True)
        except (binascii.Error, ValueError):
            raise HarnessError(f"{inputs.where}: data must be base64-encoded") from None
        inputs.done()
        return news

    def create(self, news: dict, record) -> tuple[str, dict]:
        # resource_docker_secret.go:91-118, resource_docker_config.go:60-87
        create = getattr(self.api, f"create_{self.kind}")
        try:
            created = create(news["name"], base64.b64decode(news["data"]))
        except docker.errors.APIError as error:
            raise HarnessError(f"Error creating {self.kind}: {error.explanation}") from None
        record(created["ID"], dict(news))
        return created["ID"], self._read(created["ID"], news)

    def read(self, realized) -> dict | None:
        return self._read(realized.id, realized.outputs)

    def _read(self, data_id: str, state: dict) -> dict | None:
        try:
            spec = getattr(self.api, f"inspect_{self.kind}")(data_id)["Spec"]
        except docker.errors.NotFound:
            return None
        return {**state, **self._read_back(spec)}

    def _read_back(self, spec: dict) -> dict:
        raise NotImplementedError

    def update(self, realized, news: dict, changed: set[str]) -> dict:
        return {**realized.outputs, **news}

    def delete(self, realized) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            getattr(self.api, f"remove_{self.kind}")(realized.id)


class SecretHandler(_SwarmData):
    kind = "secret"

    def _read_back(self, spec: dict) -> dict:
        # resource_docker_secret.go:120-141: the name only; Docker never gives the
        # data back, so the state keeps what was declared.
        return {"name": spec["Name"]}


class ServiceConfigHandler(_SwarmData):
    kind = "config"

    def _read_back(self, spec: dict) -> dict:
        # resource_docker_config.go:89-121: the data too, base64 (StdEncoding), as the
        # Docker API sends it.
        return {"name": spec["Name"], "data": spec.get("Data") or ""}
