"""Without a Docker engine the e2e tests skip and say why; under CI=true they fail.

Runs one e2e test in a child pytest whose DOCKER_HOST names a socket nobody
listens on; needs no engine itself.
"""

import os
import subprocess
import sys

import pytest

from testing.harness import PROJECT_ROOT

pytestmark = pytest.mark.e2e

ANY_E2E_TEST = "tests/e2e/test_declared_stack.py::test_the_app_finds_the_database_by_its_alias"


def run_without_engine(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DOCKER_HOST")}
    env["DOCKER_HOST"] = f"unix://{tmp_path}/no-engine.sock"
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", ANY_E2E_TEST, "-rsE", "-p", "no:cacheprovider"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_skips_with_the_reason_without_an_engine(tmp_path):
    result = run_without_engine(tmp_path, ci=None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "no Docker engine reachable" in result.stdout
    assert "bash .ci/start-dockerd.sh" in result.stdout


def test_fails_under_ci_without_an_engine(tmp_path):
    result = run_without_engine(tmp_path, ci="true")
    assert result.returncode != 0
    assert "1 error" in result.stdout
    assert "no Docker engine reachable" in result.stdout
    assert "CI=true" in result.stdout
