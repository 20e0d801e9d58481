"""Which backend realizes the e2e stacks: the real Pulumi engine or the harness.

E2E_ENGINE=pulumi requires the real engine (the Pulumi CLI, its Python language
host and pulumi-docker's plugin at the pinned version): without it the session
stops, saying what is missing, never falling back. E2E_ENGINE=harness takes the
harness. Unset: the real engine when it is usable here, else the harness. Decided
once per session; the pytest header says which and why.
"""

import dataclasses
import functools
import os

from testing import pulumi_cli

VARIABLE = "E2E_ENGINE"
PULUMI, HARNESS = "pulumi", "harness"


class EngineUnavailable(Exception):
    """E2E_ENGINE asks for what this machine cannot give."""


@dataclasses.dataclass(frozen=True)
class Engine:
    kind: str  # PULUMI or HARNESS
    reason: str  # why this one, for the header
    cli: pulumi_cli.PulumiCLI | None = None

    @property
    def real(self) -> bool:
        return self.kind == PULUMI

    def header(self) -> str:
        if self.cli is not None:
            what = (
                f"pulumi {self.cli.version.lstrip('v')} with pulumi-docker {self.cli.docker_plugin}"
            )
        else:
            what = HARNESS
        return f"e2e engine: {what} ({self.reason})"


HARNESS_ENGINE = Engine(HARNESS, "chosen by the caller")


@functools.cache
def chosen() -> Engine:
    """The session's backend (raises EngineUnavailable when E2E_ENGINE cannot be met)."""
    wanted = os.environ.get(VARIABLE, "").strip().lower()
    if wanted not in ("", PULUMI, HARNESS):
        raise EngineUnavailable(
            f"{VARIABLE}={wanted!r}: say {PULUMI} (the real engine, required) or {HARNESS}, "
            "or leave it unset (the real engine when installed, else the harness)"
        )
    if wanted == HARNESS:
        return Engine(HARNESS, f"{VARIABLE}={HARNESS}")
    cli, why = pulumi_cli.find()
    if cli is not None:
        return Engine(PULUMI, f"{VARIABLE}={PULUMI}" if wanted else "found on PATH", cli)
    if wanted == PULUMI:
        raise EngineUnavailable(
            f"{VARIABLE}={PULUMI} requires the real Pulumi engine, but {why}. Install the "
            "Pulumi CLI, its Python language host (pulumi-language-python) and the docker "
            f"plugin {pulumi_cli.pinned('pulumi-docker')} (tests/e2e/README.md), or unset "
            f"{VARIABLE} to run on the harness"
        )
    return Engine(HARNESS, f"{why}; {VARIABLE}={PULUMI} to require it")
