"""Secure defaults of the running stack, each checked where an attacker or a
curious user would look: outputs, the repository, labels, environments, HTTP
responses, logs, the image's layers, published ports, the app's user.

Read-only, on the session's live_stack (tests/program/test_secure_defaults.py
checks what the program declares).
"""

import subprocess
import tarfile
import tempfile

import pytest

from infra.config import PASSWORD_KEY
from tests.e2e.harness import PROJECT_ROOT
from tests.e2e.live import ROLES

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


@pytest.fixture(scope="module")
def password(live_stack) -> str:
    secret = live_stack.config[PASSWORD_KEY]
    assert len(secret) >= 16  # an empty or short one would "match" nothing by luck
    return secret


@pytest.fixture(scope="module")
def responses(live_stack):
    return [live_stack.request(method, path, json=body) for method, path, body in REQUESTS]


def test_the_password_is_in_no_stack_output(live_stack, password):
    assert password not in repr(live_stack.outputs)


def test_the_password_is_in_no_file_of_the_repository(password):
    # git grep reads tracked and untracked files alike (ignored ones, such as
    # .venv and the passphrase, are not the program's source).
    found = subprocess.run(
        ["git", "grep", "--untracked", "-I", "-l", "-F", "-e", password],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    assert found.returncode == 1, f"found in: {found.stdout}"  # 1: no match, 2+: an error


def test_the_password_is_in_no_label_env_or_command_of_any_container(live_stack, password):
    for role in ROLES:
        attrs = live_stack.container(role).attrs
        config = attrs["Config"]
        visible = [config.get("Labels"), config.get("Env"), config.get("Cmd"), attrs["Args"]]
        assert password not in repr(visible), role


def test_the_password_is_in_no_response_and_no_log(live_stack, password, responses):
    for response in responses:
        assert password not in response.text
        assert password not in repr(dict(response.headers))
    for role in ROLES:
        assert password not in live_stack.logs(role), role


def test_the_password_is_in_no_layer_or_history_of_the_app_image(live_stack, password):
    image = live_stack.docker.images.get(live_stack.image)
    for layer in image.history():
        assert password not in layer.get("CreatedBy", "")
    needle = password.encode()
    with tempfile.TemporaryFile() as saved:
        for chunk in image.save(named=False):
            saved.write(chunk)
        saved.seek(0)
        with tarfile.open(fileobj=saved) as outer:
            for member in outer.getmembers():
                if member.isfile():
                    assert needle not in outer.extractfile(member).read(), member.name


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
    probe = app.exec_run(["python", "-c", "from api import create_app; print(create_app().debug)"])
    assert (probe.exit_code, probe.output.decode().strip()) == (0, "False")
    env = dict(entry.split("=", 1) for entry in app.attrs["Config"]["Env"])
    assert env.get("FLASK_DEBUG", "0") in ("", "0")


def test_every_api_response_is_json_and_forbids_sniffing(responses):
    for (method, path, _), response in zip(REQUESTS, responses, strict=True):
        assert response.headers["Content-Type"] == JSON, f"{method} {path}"
        assert response.headers["X-Content-Type-Options"] == "nosniff", f"{method} {path}"
        assert "Werkzeug Debugger" not in response.text and "Traceback" not in response.text
