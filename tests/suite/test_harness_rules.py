"""The harness's own rules, checked without Docker: durations, the change table, the
build context's digest. (The suite's own tests live here, apart from the product's.)"""

import pytest

from infra.settings import SECRETS
from testing.harness import RULES, SERVICE, UnsupportedDeclaration
from testing.harness.images import context_digest, repo_digest
from testing.harness.inputs import format_duration, parse_duration
from testing.harness.service_request import image_as_sent
from testing.harness.service_spec import short_duration
from testing.program import run_program

SECOND = 10**9


@pytest.mark.parametrize(
    ("nanoseconds", "text"),
    [
        # The forms Go's time.Duration.String() documents and writes.
        (0, "0s"),
        (1, "1ns"),
        (1500, "1.5µs"),
        (250 * 10**6, "250ms"),
        (5 * SECOND, "5s"),
        (1500 * 10**6, "1.5s"),
        (60 * SECOND, "1m0s"),
        (120 * SECOND, "2m0s"),
        (3600 * SECOND, "1h0m0s"),
        (4530 * SECOND + 918273645, "1h15m30.918273645s"),
    ],
)
def test_durations_read_back_as_go_writes_them(nanoseconds, text):
    assert (format_duration(nanoseconds), parse_duration(text)) == (text, nanoseconds)


def test_a_duration_go_would_not_parse_is_an_error():
    with pytest.raises(Exception, match="not a duration"):
        parse_duration("5 seconds")


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"dbHostPort": 15432, "healthcheckStartIntervalSeconds": 1, "retainVolume": False},
        {"target": "swarm", "registry": "registry.example.com:5000"},
    ],
    ids=["defaults", "every-optional-input", "swarm"],
)
def test_every_input_the_program_sets_has_a_row_in_the_change_table(config):
    run = run_program({**dict.fromkeys(SECRETS, "x"), **config})
    missing = {
        f"{r.name}.{key}"
        for r in run.resources.values()
        # A service's state is flat (harness/service.py): its rows name parts of
        # the spec, and its reader refuses any input it does not implement.
        if r.type != SERVICE
        for key, value in r.inputs.items()
        if value not in (None, [], {}) and key not in RULES[r.type] and key != "buildOnPreview"
    }
    assert missing == set()


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (5, "5s"), (90, "1m30s"), (120, "2m"), (3600, "1h"), (3660, "1h1m")],
)
def test_service_durations_read_back_as_shortdur_writes_them(seconds, text):
    assert short_duration(seconds * SECOND) == text


@pytest.mark.parametrize(
    ("declared", "stored"),
    [
        ("registry:5000/app@sha256:ab12", "registry:5000/app@sha256:ab12"),
        ("docker.io/someone/app@sha256:ab12", "someone/app@sha256:ab12"),
        ("docker.io/library/postgres:15-alpine", "postgres:15-alpine"),
        ("postgres", "postgres:latest"),
    ],
)
def test_a_service_image_is_stored_in_the_familiar_form_the_client_sends(declared, stored):
    assert image_as_sent(declared) == stored


def test_a_remote_images_digest_is_the_one_of_its_own_repository():
    digests = ["postgres@sha256:bb", "registry:5000/postgres@sha256:aa"]
    assert repo_digest("registry:5000/postgres:15-alpine", digests) == digests[1]


def test_every_row_cites_the_providers_source():
    rows = [(t, k, r.cite) for t, rules in RULES.items() for k, r in rules.items()]
    assert [row for row in rows if ".go:" not in row[2]] == []


def test_the_build_digest_changes_with_a_source_file_but_not_with_an_ignored_one(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".dockerignore").write_text("**/__pycache__\n**/*.pyc\n")
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "app.py").write_text("print(1)\n")

    def digest():
        return context_digest(tmp_path, tmp_path / "Dockerfile")

    before = digest()
    (tmp_path / "api" / "__pycache__").mkdir()
    (tmp_path / "api" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\0")
    with_bytecode = digest()
    (tmp_path / "api" / "app.py").write_text("print(2)\n")
    assert (with_bytecode == before, digest() == before) == (True, False)


def test_an_exception_in_dockerignore_is_refused_rather_than_misread(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".dockerignore").write_text("*.txt\n!keep.txt\n")
    with pytest.raises(UnsupportedDeclaration, match="exceptions"):
        context_digest(tmp_path, tmp_path / "Dockerfile")
