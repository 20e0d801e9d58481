"""Isolated instances of the stack on a real Docker engine, for the e2e tests.

The real program (infra/) with names of its own, realized by the session's
backend: the real Pulumi engine through the Automation API where it is
installed, else the harness (testing/harness), the stand-in for pulumi-docker.
One module a concern:
- stack.py: `LiveStack` (one isolated stack, one API over both backends) and
  `StackFactory` (makes them, removes everything under its prefix at the end);
- config.py: the isolated config a stack starts with, and `EffectiveConfig`;
- selection.py: which backend (E2E_ENGINE), and why, for the pytest header;
- pulumi_backend.py: the real engine's backend (loaded only when it is chosen);
- docker_side.py: reaching the engine, the base images, sweeping a prefix,
  reading files and running psql in a container, waiting on a condition.

testing/live/plugin.py turns these into fixtures; see tests/e2e/README.md.
"""

from testing.harness.errors import StackError
from testing.live.config import (
    FAST_SETTINGS,
    ISOLATED_FIELDS,
    ROLES,
    EffectiveConfig,
    isolated_config,
)
from testing.live.docker_side import (
    DOCKERD_HINT,
    STANDINS_HINT,
    base_images,
    connect_engine,
    image_available,
    psql_in,
    pulled_images,
    read_file,
    require_base_images,
    sweep,
    unavailable,
    wait_until,
)
from testing.live.selection import HARNESS_ENGINE, Engine, EngineUnavailable, chosen
from testing.live.stack import LiveStack, StackFactory

__all__ = [
    "DOCKERD_HINT",
    "FAST_SETTINGS",
    "HARNESS_ENGINE",
    "ISOLATED_FIELDS",
    "ROLES",
    "STANDINS_HINT",
    "EffectiveConfig",
    "Engine",
    "EngineUnavailable",
    "LiveStack",
    "StackError",
    "StackFactory",
    "base_images",
    "chosen",
    "connect_engine",
    "image_available",
    "isolated_config",
    "psql_in",
    "pulled_images",
    "read_file",
    "require_base_images",
    "sweep",
    "unavailable",
    "wait_until",
]
