"""The Reliability table (docs/reliability.md) against the tests behind it:
every figure in the table is a constant those tests run with, and every row
says what it was proven against. A figure changed on one side only fails here."""

import itertools
import re
from pathlib import Path

import pytest

from desafio2 import db
from testing import figures
from testing import hostile_requests as hostile

RELIABILITY = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
COLUMNS = ["", "tried", "result", "proven against"]

# What a row was proven against, as its last cell must say.
APP = "the app's code ... on a real PostgreSQL"
STACK = "the stack through the harness, on stand-in images"
# Rows whose Pulumi side (up, destroy, replacement, start order) is the
# harness's model of it, not Pulumi.
MODEL = "a model of Pulumi's"

# Each row, by the start of its first cell: what it was proven against, and the
# phrases it must hold, figures filled in from the tests' constants (or, for
# statuses, fixed by HTTP). A number left in the row outside these phrases is a
# figure no test is tied to.
ROWS = {
    "hostile requests": (
        APP,
        f"{len(hostile.CASES)} in one table",
        "413, 405, 404",
        f"plus {len(hostile.PROTOCOL)} raw HTTP requests gunicorn refuses",
        "0 5xx",
    ),
    "accepted as sent": (
        APP,
        f"{len(hostile.SQL_METACHARACTERS)} names full of SQL metacharacters",
        f"{len(hostile.NAMES)} names in many scripts",
    ),
    "property-based fuzzing": (
        APP,
        f"up to {figures.DEFAULT_MAX_EXAMPLES} examples per operation and mode",
        f"up to {figures.DEFAULT_MAX_EXAMPLES * len(figures.RUNS)} requests per run",
        "0 5xx, 0 responses outside",
    ),
    "database stopped": (
        STACK,
        "every answer a 503 in JSON",
        f"gives up connecting after {db.CONNECT_TIMEOUT_SECONDS} s",
        f"the test's deadline is {figures.DEADLINE_SECONDS} s",
    ),
    "database killed": (
        STACK,
        f"right after {figures.WRITES_BEFORE_KILL} `201`s",
        f"all {figures.WRITES_BEFORE_KILL} rows and their logs",
    ),
    "concurrent writes": (
        STACK,
        f"{figures.CONCURRENT_DISTINCT} POSTs at once with distinct emails",
        f"{figures.CONCURRENT_SAME} at once with one email",
        f"{figures.CONCURRENT_DISTINCT} rows, {figures.CONCURRENT_DISTINCT} unique ids, "
        f"{figures.CONCURRENT_DISTINCT} log rows",
        f"one 201, {figures.CONCURRENT_SAME - 1} 409, one row",
    ),
    "destroy and up": (
        MODEL,
        f"{figures.CYCLES} cycles, {figures.WRITES_PER_CYCLE} writes before each",
    ),
    "deliberate deletion": (MODEL,),
    "start order": (MODEL,),
    "a second up": (MODEL,),
    "app restarted": (STACK,),
    "schema migrations": (
        "the app's migration runner on a real PostgreSQL; "
        "the adoption end to end through the harness, on stand-in images",
        f"{figures.RACING_STARTS} starts racing on one database",
        f"started {figures.FAILING_STARTS} times",
    ),
    "**rows lost**": ("", "**0**"),
}


def reliability_table() -> dict[str, list[str]]:
    """The table's rows by their key in ROWS, each a list of its cells."""
    page = RELIABILITY.read_text(encoding="utf-8").splitlines()
    # The page's first table: a table added below it is not this one's rows.
    from_table = itertools.dropwhile(lambda line: not line.startswith("|"), page)
    lines = list(itertools.takewhile(lambda line: line.startswith("|"), from_table))
    cells = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]
    assert cells[0] == COLUMNS
    assert set(cells[1]) == {"---"}
    rows = {}
    for row in cells[2:]:
        keys = [key for key in ROWS if row[0].startswith(key)]
        assert len(keys) == 1, f"Reliability row {row[0]!r} is not one of {list(ROWS)}"
        rows[keys[0]] = row
    return rows


def test_the_table_has_every_row_and_no_other():
    assert list(reliability_table()) == list(ROWS)


@pytest.mark.parametrize("key", list(ROWS))
def test_every_figure_of_the_row_is_a_constant_of_its_tests(key):
    text = " | ".join(reliability_table()[key][1:])
    for phrase in ROWS[key][1:]:
        assert phrase in text, f"Reliability, {key}: no {phrase!r} in {text!r}"
        text = text.replace(phrase, "")
    # A number, not part of a name such as UTF-8 or 4xx.
    figures = re.findall(r"(?<![\w-])\d+(?![\w-])", text)
    assert figures == [], f"Reliability, {key}: figures tied to no constant"


@pytest.mark.parametrize("key", list(ROWS))
def test_every_row_says_what_it_was_proven_against(key):
    proven, expected = reliability_table()[key][-1], ROWS[key][0]
    if expected == APP:
        head, tail = APP.split(" ... ")
        assert proven.startswith(head) and proven.endswith(tail), proven
    elif expected == MODEL:
        assert MODEL in proven, proven
    else:
        assert proven == expected
