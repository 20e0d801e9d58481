"""The suite's own tests: of the e2e harness and of the fixtures, not of the product."""

# The engine fixtures, shared with tests/e2e (skip without an engine, fail under CI=true).
from tests.e2e.conftest import docker_engine, stack_factory  # noqa: F401
from tests.swarm.conftest import swarm_cluster  # noqa: F401
