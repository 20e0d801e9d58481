"""Fixtures for the contract tests of the base images: the engine, the image under
test, and containers of it under a unique prefix, removed with their volumes."""

import os
import secrets

import pytest

from infra.settings import StackConfig
from testing.live import STANDINS_HINT, connect_engine, image_available, sweep, unavailable
from testing.postgres_container import PostgresContainer

# The image the stack declares, unless one under another tag is being tried
# before it takes that tag (a stand-in under development).
POSTGRES_IMAGE = os.environ.get("CONTRACT_POSTGRES_IMAGE", StackConfig.db_image)


@pytest.fixture(scope="session")
def engine():
    client = connect_engine()
    yield client
    client.close()


@pytest.fixture(scope="session")
def postgres_image(engine) -> str:
    if not image_available(engine, POSTGRES_IMAGE):
        unavailable(
            f"{POSTGRES_IMAGE} is not in the Docker engine and cannot be pulled; {STANDINS_HINT}"
        )
    return POSTGRES_IMAGE


class Containers:
    """Makes PostgresContainers whose names and volumes share one unique prefix."""

    def __init__(self, engine, image: str, prefix: str):
        self.engine, self.image, self.prefix = engine, image, prefix
        self._made = 0

    def volume(self) -> str:
        self._made += 1
        return self.engine.volumes.create(f"{self.prefix}v{self._made}").name

    def make(
        self,
        volume: str | None = None,
        init_scripts: dict[str, tuple[str, int]] | None = None,
        password: str | None = None,
        **environment: str,
    ) -> PostgresContainer:
        """A started container on `volume` (a new one when None), with `password`
        (a new one when None) in the file POSTGRES_PASSWORD_FILE names."""
        self._made += 1
        return PostgresContainer(
            self.engine,
            self.image,
            f"{self.prefix}c{self._made}",
            volume or self.volume(),
            init_scripts or {},
            environment,
            password,
        ).start()


def _containers(engine, image: str):
    # "e2e-": the prefix CI's cleanup also removes, should a run be killed.
    containers = Containers(engine, image, f"e2e-{secrets.token_hex(3)}-pg-contract-")
    yield containers
    sweep(engine, containers.prefix)


@pytest.fixture
def postgres(engine, postgres_image):
    yield from _containers(engine, postgres_image)


@pytest.fixture(scope="module")
def module_postgres(engine, postgres_image):
    yield from _containers(engine, postgres_image)
