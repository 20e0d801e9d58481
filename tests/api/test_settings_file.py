"""The app's settings from a file (SETTINGS_FILE, how the stack gives them on a swarm):
each NAME=value line joins the environment, which keeps what it already has."""

import subprocess
import sys

import pytest

from desafio2 import settings


def settings_file(tmp_path, text: str) -> dict:
    path = tmp_path / "settings.env"
    path.write_text(text, encoding="utf-8")
    return {"SETTINGS_FILE": str(path)}


def test_each_line_becomes_a_variable_and_a_value_keeps_its_equals_signs(tmp_path):
    environ = settings_file(tmp_path, "PGHOST=db\n\nPGOPTIONS=-c search_path=public\n")
    settings.apply_settings_file(environ)
    assert (environ["PGHOST"], environ["PGOPTIONS"]) == ("db", "-c search_path=public")


def test_the_environment_wins_over_the_file(tmp_path):
    environ = {**settings_file(tmp_path, "WEB_CONCURRENCY=4\n"), "WEB_CONCURRENCY": "1"}
    settings.apply_settings_file(environ)
    assert settings.read(environ).workers == 1


def test_a_line_that_is_not_name_equals_value_is_refused_with_where_it_is(tmp_path):
    environ = settings_file(tmp_path, "PGHOST=db\nPGPORT 5432\n")
    with pytest.raises(ValueError, match=r"settings\.env:2: not a NAME=value line"):
        settings.apply_settings_file(environ)


def test_without_the_variable_nothing_is_read():
    environ = {"PGHOST": "db"}
    settings.apply_settings_file(environ)
    assert environ == {"PGHOST": "db"}


def test_the_processes_the_app_starts_see_the_files_settings(tmp_path):
    # What gunicorn.conf.py does: import the settings, then start the start-up steps.
    environ = settings_file(tmp_path, "MIGRATIONS_DIR=/srv/app/migrations\n")
    child = (
        "from desafio2 import settings; import subprocess, sys; "
        "subprocess.run([sys.executable, '-c', "
        "'import os; print(os.environ[\"MIGRATIONS_DIR\"])'], check=True)"
    )
    result = subprocess.run(
        [sys.executable, "-c", child],
        env={**environ, "PYTHONPATH": settings.__file__.rsplit("/desafio2/", 1)[0]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == "/srv/app/migrations\n"
