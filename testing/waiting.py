"""Waiting for a condition, never for a length of time."""

import time
from collections.abc import Callable


class WaitTimeout(AssertionError):
    """The condition did not come true within the deadline."""


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.2):
    """The first truthy value of predicate(); WaitTimeout saying what did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)
