"""Secure defaults that can be read from the program and the repository alone
(Pulumi's mock runtime); tests/e2e/test_secure_defaults.py checks the same on
the running stack."""

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.program import is_secret, run_program

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "secure-defaults-password-6b1d"
DEBUG_SWITCHES = {"FLASK_DEBUG", "FLASK_ENV", "PYTHONDEVMODE", "PYTHONBREAKPOINT"}


@pytest.fixture(scope="module")
def program():
    return run_program({"dbPassword": PASSWORD})


def plain_strings(value):
    """Every string in an input tree, leaving out what Pulumi marks as secret."""
    if is_secret(value):
        return
    if isinstance(value, dict):
        for item in value.values():
            yield from plain_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from plain_strings(item)
    elif isinstance(value, str):
        yield value


def test_the_password_is_in_no_input_unless_marked_secret(program):
    leaks = [
        name
        for name, resource in program.resources.items()
        if any(PASSWORD in text for text in plain_strings(resource.inputs))
    ]
    assert leaks == []
    # The walk must see the password where it does go, or it proves nothing.
    assert PASSWORD in repr(program.resources["app-flask"].inputs["uploads"])


def test_the_password_is_in_no_label_or_env(program):
    # Marked secret or not: docker inspect shows labels and env to anyone who may run it.
    for resource in program.resources.values():
        assert PASSWORD not in repr(resource.inputs.get("labels", []))
        assert PASSWORD not in repr(resource.inputs.get("envs", []))


def test_no_container_switches_debugging_on(program):
    for container in program.of_type("docker:index/container:Container"):
        names = {entry.split("=", 1)[0] for entry in container.inputs.get("envs", [])}
        assert names & DEBUG_SWITCHES == set(), container.name


def _dockerfile_user() -> str:
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "app" / "Dockerfile").read_text(), re.MULTILINE)
    assert users, "app/Dockerfile sets no USER: the app would run as root"
    return users[-1]


def test_the_app_image_runs_as_an_unprivileged_numeric_user():
    # Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
    user, _, group = _dockerfile_user().partition(":")
    assert user.isdigit() and int(user) >= 1000
    assert group.isdigit() and int(group) != 0


def test_the_app_command_has_no_reload_or_debug():
    dockerfile = (ROOT / "app" / "Dockerfile").read_text()
    (command,) = re.findall(r"^CMD\s+(.+)$", dockerfile, re.MULTILINE)
    assert not re.search(r"--reload|--debug|debug=True|flask run", command)
    conf = (ROOT / "app" / "gunicorn.conf.py").read_text()
    assert not re.search(r"^\s*reload\s*=\s*True", conf, re.MULTILINE)


def tracked(*patterns: str) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--", *patterns], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return out.split()


def test_the_passphrase_file_is_never_committed():
    # `make up` writes it next to the code; it decrypts every secret of the stack.
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", ".pulumi-passphrase"], cwd=ROOT
    )
    assert ignored.returncode == 0
    assert tracked(".pulumi-passphrase") == []


def test_committed_stack_files_hold_the_password_only_encrypted():
    for name in tracked("Pulumi.*.yaml"):
        text = (ROOT / name).read_text()
        for line in re.findall(r"^\s*\S*dbPassword:.*$", text, re.MULTILINE):
            assert "secure:" in line, f"{name}: {line.strip()}"
