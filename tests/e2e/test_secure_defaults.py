"""Secure defaults of the running stack, each checked where an attacker or a
curious user would look: outputs, the state, the project's files, inspect
output, HTTP responses, logs, the image's layers, published ports, the app's
user.

Every search for a password runs for each of the stack's two, the owner's and
the API role's, and starts from the `password` fixture, which first shows that
this password did reach the containers that hold it and is in use: a search
that finds nothing then means the password is not there, not that it never went
anywhere.

Read-only on the session's live_stack, except the image snapshot the layer
search is checked against (tests/program/test_secure_defaults.py checks what
the program declares).
"""

import json
import os
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import pytest

from infra.common import API_PASSWORD_FILE, PASSWORD_FILE
from infra.settings import API_PASSWORD_KEY, PASSWORD_KEY
from testing.harness import IMAGE, PROJECT_ROOT
from testing.live import ROLES, read_file
from testing.program import plain_strings

pytestmark = pytest.mark.e2e

JSON = "application/json"
# Every kind of answer the API gives: data, status, document, each error.
REQUESTS = [
    ("GET", "/status", None),
    ("GET", "/usuarios", None),
    ("GET", "/logs", None),
    ("GET", "/openapi.json", None),
    ("GET", "/usuarios?limit=0", None),
    ("POST", "/usuarios", {"nome": "Ana"}),
    ("POST", "/usuarios", {"nome": "João", "email": "JOAO@example.com"}),
    ("DELETE", "/usuarios", None),
    ("GET", "/nao-existe", None),
    ("GET", "/logs?after=" + "1" * 5000, None),  # refused by gunicorn itself: a 414
]


# Written by tools, never by `make up` or the program: git, pip, pytest, ruff
# and `make bench` (whose bench/.work holds a whole PostgreSQL data directory).
NOT_WRITTEN_BY_THE_STACK = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"}
BENCH_WORK = PROJECT_ROOT / "bench" / ".work"


# Each password: its config key, its file, and the containers that hold it (the last
# is the one whose top layer the snapshot search finds it in).
PASSWORDS = {
    "owner": (PASSWORD_KEY, PASSWORD_FILE, ("db", "migrator")),
    "api": (API_PASSWORD_KEY, API_PASSWORD_FILE, ("migrator", "app")),
}


@pytest.fixture(scope="module", params=PASSWORDS)
def whose(request) -> str:
    """Whose password a test searches for: each test runs for both."""
    return request.param


@pytest.fixture(scope="module")
def password(whose, live_stack) -> str:
    """One of the stack's passwords, once shown to be in its containers and in use."""
    key, path, holders = PASSWORDS[whose]
    secret = live_stack.config[key]
    assert len(secret) >= 16  # an empty or short one would "match" nothing by luck
    for role in holders:
        content, _, _ = read_file(live_stack.container(role), path)
        assert content.decode() == secret, role
    # The migrator logged in with the owner's and set the API role's; the app logged
    # in with the API role's and the database accepted it.
    assert live_stack.health("migrator") == "healthy"
    assert live_stack.get("/status").json()["database"] == "ok"
    return secret


@pytest.fixture(scope="module")
def password_file(whose) -> tuple[str, str]:
    """(the role whose container's top layer holds the password's file, its path)."""
    _, path, holders = PASSWORDS[whose]
    return holders[-1], path


def project_files(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        for directory, subdirectories, files in os.walk(root):
            subdirectories[:] = [
                d
                for d in subdirectories
                if d not in NOT_WRITTEN_BY_THE_STACK and Path(directory, d) != BENCH_WORK
            ]
            for name in files:
                yield Path(directory, name)


def files_holding(archive: IO[bytes], needle: bytes, where: str = "") -> list[str]:
    """The files of a tar archive that hold needle, looking into the tar archives
    inside it too (an image's layers), compressed or not."""
    found = []
    with tarfile.open(fileobj=archive, mode="r:*") as tar:
        for member in tar:
            if not member.isfile():
                continue
            content = tar.extractfile(member)
            try:
                found += files_holding(content, needle, f"{where}{member.name}/")
                continue
            except tarfile.TarError:
                content.seek(0)
            if needle in content.read():
                found.append(where + member.name)
    return found


def saved_image_files_holding(image, needle: bytes) -> list[str]:
    """What `docker save` of the image holds, searched file by file in every layer."""
    with tempfile.TemporaryFile() as saved:
        for chunk in image.save(named=False):
            saved.write(chunk)
        saved.seek(0)
        return files_holding(saved, needle)


@pytest.fixture(scope="module")
def responses(live_stack):
    return [live_stack.request(method, path, json=body) for method, path, body in REQUESTS]


def test_the_password_is_in_no_stack_output(live_stack, password):
    assert password not in repr(live_stack.outputs)


def test_the_state_holds_the_password_only_as_a_secret(live_stack, password, whose):
    # What Pulumi would keep in its state, as the harness keeps it: each resource's
    # inputs, where only values marked secret are encrypted, and its outputs, where
    # an output is encrypted when the input of the same name held a secret.
    in_secrets = []
    for resource in live_stack.run.resources.values():
        assert not [text for text in plain_strings(resource.inputs) if password in text]
        for key, value in resource.outputs.items():
            if password not in repr(resource.inputs.get(key)):
                assert password not in repr(value), f"{resource.name}: output {key}"
        if password in repr(resource.inputs):
            in_secrets.append(resource.name)
    # The search sees the password where it does go, as a secret, or it proves nothing.
    holders = {live_stack.container_name(role) for role in PASSWORDS[whose][2]}
    expected = [
        r.name for r in live_stack.run.resources.values() if r.inputs.get("name") in holders
    ]
    assert sorted(in_secrets) == sorted(expected) and len(expected) == 2


def test_the_password_is_in_no_file_of_the_project_or_the_build_context(live_stack, password):
    # Tracked, untracked and ignored files alike: what `make up` writes
    # (Pulumi.<stack>.yaml, .pulumi-passphrase) and whatever the program might.
    contexts = [
        PROJECT_ROOT / image.inputs["build"]["context"] for image in live_stack.run.of_type(IMAGE)
    ]
    assert contexts == [PROJECT_ROOT / "app"]
    needle = password.encode()
    holding = {
        str(path)
        for path in project_files([PROJECT_ROOT, *contexts])
        if path.is_file() and needle in path.read_bytes()
    }
    assert holding == set()


def test_the_password_is_in_no_inspect_output_of_any_container(live_stack, password):
    for role in ROLES:
        assert password not in json.dumps(live_stack.container(role).attrs), role


def test_the_password_is_in_no_response_and_no_log(live_stack, password, responses):
    for response in responses:
        assert password not in response.text
        assert password not in repr(dict(response.headers))
    for role in ROLES:
        assert password not in live_stack.logs(role), role


def test_the_password_is_in_no_layer_or_history_of_the_app_image(
    live_stack, password, password_file
):
    image = live_stack.docker.images.get(live_stack.image)
    for layer in image.history():
        assert password not in layer.get("CreatedBy", "")
    assert saved_image_files_holding(image, password.encode()) == []

    # The same search over a snapshot of a running container of the app image,
    # whose top layer holds the password file, finds it there and only there.
    role, path = password_file
    snapshot = live_stack.container(role).commit(repository=f"{live_stack.prefix}leak-probe")
    try:
        found = saved_image_files_holding(snapshot, password.encode())
    finally:
        live_stack.docker.images.remove(snapshot.id, noprune=False)
    in_layer = path.lstrip("/")
    assert [path[-len(in_layer) :] for path in found] == [in_layer], found


def test_the_database_port_is_not_published(live_stack):
    db = live_stack.container("db").attrs
    assert not db["HostConfig"].get("PortBindings")
    assert not any(db["NetworkSettings"]["Ports"].values())


def test_the_app_is_published_on_loopback_only(live_stack):
    bindings = live_stack.container("app").attrs["HostConfig"]["PortBindings"]
    assert bindings == {
        "5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(live_stack.config.app_host_port)}]
    }


def test_the_app_runs_as_a_non_root_user(live_stack):
    app = live_stack.container("app")
    assert app.attrs["Config"]["User"].split(":")[0] not in ("", "0", "root")
    # The server itself (PID 1, gunicorn's master) and whatever runs beside it.
    status = app.exec_run(["cat", "/proc/1/status"]).output.decode()
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    assert "0" not in uids, status
    assert app.exec_run(["id", "-u"]).output.decode().strip() != "0"


def test_flask_debug_is_off_in_the_running_image(live_stack):
    app = live_stack.container("app")
    probe = app.exec_run(
        ["python", "-c", "from desafio2 import create_app; print(create_app().debug)"]
    )
    assert (probe.exit_code, probe.output.decode().strip()) == (0, "False")
    env = dict(entry.split("=", 1) for entry in app.attrs["Config"]["Env"])
    assert env.get("FLASK_DEBUG", "0") in ("", "0")


def test_every_api_response_is_json_and_forbids_sniffing(responses):
    for (method, path, _), response in zip(REQUESTS, responses, strict=True):
        assert response.headers["Content-Type"] == JSON, f"{method} {path}"
        assert response.headers["X-Content-Type-Options"] == "nosniff", f"{method} {path}"
        assert "Werkzeug Debugger" not in response.text and "Traceback" not in response.text
