"""Realize what the Pulumi program declares on a real Docker engine, as pulumi-docker would.

The Pulumi CLI and its docker provider cannot be installed on this project's
machines, but Pulumi's mock runtime and a Docker engine can run. `DockerHarness`
runs the real program under the mock runtime (testing/program.py) and,
for every resource it declares, does through the Docker SDK for Python what
pulumi-docker 5 (terraform-provider-docker v4.5.0 underneath) does, returning
what the provider would, so that later resources see real IDs.

It follows the provider's source, cited line by line, and simulates only what
the program declares:
- engine.py: the Pulumi side. Refresh when Pulumi.yaml asks for it, a diff of
  the provider's state against the new inputs, create / same / update /
  replace (old first for containers), retain_on_delete, ignore_changes,
  replace_on_changes; destroy in reverse order.
- schema.py: the one table of which input changes replace and which update
  in place, and what an update sends to Docker.
- network.py, volume.py, images.py, container.py, and for a swarm service.py and
  swarm_data.py (secrets and configs): each type's create, read
  (what the provider reads back, in its form: Go durations, labels, ports),
  update and delete, and the errors the provider's client raises (an engine
  too old for a health check's start interval).

A resource type, input or option the program never used before is an
`UnsupportedDeclaration` naming it: simulate it from the provider's source
before relying on it.
"""

from testing.harness.engine import PROJECT_ROOT, DockerHarness, Realized, project_refreshes
from testing.harness.errors import HarnessError, StackError, UnsupportedDeclaration
from testing.harness.schema import (
    CONTAINER,
    IMAGE,
    NETWORK,
    REMOTE_IMAGE,
    RULES,
    SECRET,
    SERVICE,
    SERVICE_CONFIG,
    VOLUME,
)

__all__ = [
    "CONTAINER",
    "IMAGE",
    "NETWORK",
    "PROJECT_ROOT",
    "REMOTE_IMAGE",
    "RULES",
    "SECRET",
    "SERVICE",
    "SERVICE_CONFIG",
    "VOLUME",
    "DockerHarness",
    "HarnessError",
    "Realized",
    "StackError",
    "UnsupportedDeclaration",
    "project_refreshes",
]
