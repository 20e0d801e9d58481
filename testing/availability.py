"""One rule for a real part a test needs (a Docker engine, an image, PostgreSQL's
binaries, a browser): without it the test is skipped with the reason, except under
CI=true, where it must be there and its absence fails the test."""

import os

import pytest


def unavailable(reason: str) -> None:
    """Skip, or fail under CI=true, where a missing part is a broken pipeline."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: this must be available)", pytrace=False)
    pytest.skip(reason)


def require(condition: bool, reason: str) -> None:
    """Go on when `condition` holds; otherwise unavailable(reason)."""
    if not condition:
        unavailable(reason)
