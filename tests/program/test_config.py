"""Configuration: defaults declared once, bad values and a missing password stop the program."""

import dataclasses
from pathlib import Path

import pytest

from infra.config import ConfigError
from infra.settings import SECRET_FIELDS, config_key, defaults, settable_fields
from testing.program import run_program
from tests.program.conftest import PASSWORDS

CONFIG_DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_missing_password_stops_before_declaring_anything():
    with pytest.raises(ConfigError, match="pulumi config set --secret dbPassword") as failure:
        run_program({})
    assert "nothing was changed" in str(failure.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("appHostPort", 70000),
        ("appBindAddress", "localhost:80"),
        ("dbHostPort", -1),
        ("volumeName", "../etc"),
        ("dbUser", "Robert'); DROP TABLE"),
        ("readerIntervalSeconds", 0),
    ],
)
def test_unusable_values_are_rejected_naming_the_key(key, value):
    with pytest.raises(ConfigError, match=f"config {key}="):
        run_program({**PASSWORDS, key: value})


def test_config_keys_are_the_camel_case_field_names():
    assert config_key("reader_interval_seconds") == "readerIntervalSeconds"


@pytest.mark.parametrize("field", settable_fields(), ids=lambda f: config_key(f.name))
def test_the_docs_document_every_key_with_its_default(field: dataclasses.Field):
    default = str(field.default).lower() if isinstance(field.default, bool) else field.default
    assert f"| `{config_key(field.name)}` | `{default}` |" in CONFIG_DOC.read_text(encoding="utf-8")


def test_mock_runtime_sees_the_same_defaults_as_the_dataclass(declared):
    no_secrets = dict.fromkeys(SECRET_FIELDS)
    assert dataclasses.replace(declared.config, **no_secrets) == defaults()
