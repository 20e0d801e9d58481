"""scripts/preflight.sh (what `make up` checks first) run with only the tools it needs:
for tests/e2e/test_make_up_checks.py and tests/swarm."""

import shutil
import subprocess
from pathlib import Path

from testing.harness import PROJECT_ROOT

# What make and scripts/preflight.sh run; `pulumi` is left out on purpose.
TOOLS = ("make", "bash", "env", "sed", "sort", "head", "dirname", "docker")


def preflight_on_a_swarm(
    tmp_path: Path, label: str, config: dict[str, str] | None = None, **env: str
) -> subprocess.CompletedProcess:
    """scripts/preflight.sh for a stack whose config file says `target: swarm`, names
    `label` as its database node's label and sets `config`, with a stand-in of the
    Pulumi CLI that answers its version only."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    for tool in TOOLS:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    pulumi = bin_dir / "pulumi"
    pulumi.write_text('#!/bin/bash\n[[ "$*" == version ]] && echo v3.272.0\n', encoding="utf-8")
    pulumi.chmod(0o755)
    stack_file = tmp_path / "Pulumi.preflight.yaml"
    settings = {"target": "swarm", "dbNodeLabel": label, **(config or {})}
    stack_file.write_text(
        "config:\n" + "".join(f"  desafio2:{key}: {value}\n" for key, value in settings.items()),
        encoding="utf-8",
    )
    return subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "preflight.sh")],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path), "STACK_FILE": str(stack_file), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
