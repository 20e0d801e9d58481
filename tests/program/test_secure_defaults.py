"""Secure defaults that can be read from the program, the repository and the
Makefile alone (Pulumi's mock runtime, a stand-in for the Pulumi CLI);
tests/e2e/test_secure_defaults.py checks the same on the running stack."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from testing.harness.schema import CONTAINER
from testing.program import plain_strings, run_program

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "secure-defaults-password-6b1d"
API_PASSWORD = "secure-defaults-api-password-91c4"
# Each password and the one container that must hold it (the walk must see it there).
HOLDERS = {PASSWORD: "db-migracoes", API_PASSWORD: "app-flask"}
DEBUG_SWITCHES = {"FLASK_DEBUG", "FLASK_ENV", "PYTHONDEVMODE", "PYTHONBREAKPOINT"}


@pytest.fixture(scope="module")
def program():
    return run_program({"dbPassword": PASSWORD, "dbApiPassword": API_PASSWORD})


@pytest.mark.parametrize("password", HOLDERS, ids=["owner", "api"])
def test_a_password_is_in_no_input_unless_marked_secret(program, password):
    leaks = [
        name
        for name, resource in program.resources.items()
        if any(password in text for text in plain_strings(resource.inputs))
    ]
    assert leaks == []
    # The walk must see the password where it does go, or it proves nothing.
    assert password in repr(program.resources[HOLDERS[password]].inputs["uploads"])


@pytest.mark.parametrize("password", HOLDERS, ids=["owner", "api"])
def test_a_password_is_in_no_label_or_env(program, password):
    # Marked secret or not: docker inspect shows labels and env to anyone who may run it.
    for resource in program.resources.values():
        assert password not in repr(resource.inputs.get("labels", []))
        assert password not in repr(resource.inputs.get("envs", []))


def test_no_container_switches_debugging_on(program):
    for container in program.of_type(CONTAINER):
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


# The Pulumi CLI cannot be installed here: a stand-in records what `make stack`
# asks of it, each call's arguments on one line, and what `config set` reads
# on stdin. It answers as a CLI logged in, on a stack with no password yet.
STANDIN_PULUMI = """#!/bin/sh
printf 'args: %s\\n' "$*" >> "$PULUMI_CALLS"
case "$*" in
  *"config get"*) exit 1 ;;
  *"config set"*) printf 'stdin: %s\\n' "$(cat)" >> "$PULUMI_CALLS" ;;
esac
"""


def make_stack(tmp_path: Path, stack: str) -> tuple[subprocess.CompletedProcess, Path]:
    """`make stack` with the stand-in CLI; returns the run and the file of its calls."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text(STANDIN_PULUMI)
    (bin_dir / "pulumi").chmod(0o755)
    venv = Path(sys.prefix)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", PULUMI_CALLS=str(calls))
    # -o: the venv is the one running these tests; make must not reinstall it. The
    # prerequisites' check (an engine, a real CLI) is tested in tests/e2e/test_make_up_checks.py.
    command = ["make", "--no-print-directory", "-o", f"{venv}/.installed", "-o", "preflight"]
    command += ["stack"]
    command += [f"VENV={venv}", f"PASSPHRASE_FILE={tmp_path / 'passphrase'}", f"STACK={stack}"]
    made = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return made, calls


def test_make_gives_pulumi_each_password_only_as_a_secret_on_stdin(tmp_path):
    # What ends in Pulumi.<stack>.yaml is what `config set` was told: --secret
    # (encrypted there) and the value on stdin, never on a command line.
    made, calls = make_stack(tmp_path, "secure-defaults-test")
    assert made.returncode == 0, made.stdout + made.stderr
    passphrase = tmp_path / "passphrase"

    lines = calls.read_text().splitlines()
    sets = [line for line in lines if "config set" in line]
    assert sets == [
        f"args: --non-interactive config set --secret {key}"
        for key in ("dbPassword", "dbApiPassword")
    ]
    passwords = [line.removeprefix("stdin: ") for line in lines if line.startswith("stdin: ")]
    # The passwords did go to Pulumi, two of them: the searches below mean something.
    assert len(passwords) == len(set(passwords)) == 2
    for password in passwords:
        assert len(password) >= 32
        assert not [line for line in lines if line.startswith("args: ") and password in line]
        assert password not in made.stdout + made.stderr
        assert password not in passphrase.read_text()
    assert passphrase.stat().st_mode & 0o777 == 0o600


def test_once_the_stack_file_holds_the_passwords_make_asks_pulumi_nothing(tmp_path):
    # Each CLI call costs a fraction of a second of every `make up`.
    stack = f"fast-path-{tmp_path.name[-8:].lower()}"
    stack_file = ROOT / f"Pulumi.{stack}.yaml"
    stack_file.write_text(
        "config:\n  desafio2:dbApiPassword:\n    secure: v1:def\n"
        "  desafio2:dbPassword:\n    secure: v1:abc\n"
    )
    try:
        made, calls = make_stack(tmp_path, stack)
    finally:
        stack_file.unlink()
    assert (made.returncode, calls.exists()) == (0, False), made.stdout + made.stderr
