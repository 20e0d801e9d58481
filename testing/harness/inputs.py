"""A declaration's inputs read strictly, and Go durations as the provider handles them."""

import re

from testing.harness.errors import HarnessError, UnsupportedDeclaration


class Inputs:
    """A resource's inputs (or one nested block of them), each read at most once.

    `done()` fails on every input that is set but was never read: an input the
    harness does not implement becomes an error instead of being dropped.
    Unset means None or an empty list/map; False and 0 are values.
    """

    def __init__(self, values: dict | None, where: str):
        self._values = values or {}
        self._where = where
        self._read: set[str] = set()

    @property
    def where(self) -> str:
        return self._where

    def get(self, key: str, default=None):
        self._read.add(key)
        value = self._values.get(key)
        return default if value in (None, [], {}) else value

    def require(self, key: str):
        value = self.get(key)
        if value in (None, ""):
            raise HarnessError(f"{self._where}: input {key} is required")
        return value

    def int(self, key: str, default: int | None = None) -> int | None:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or float(value) != int(value):
            raise HarnessError(f"{self._where}: input {key}={value!r} must be a whole number")
        return int(value)

    def bool(self, key: str, default: bool) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise HarnessError(f"{self._where}: input {key}={value!r} must be true or false")
        return value

    def blocks(self, key: str) -> list["Inputs"]:
        return [Inputs(v, f"{self._where}.{key}[{i}]") for i, v in enumerate(self.get(key, []))]

    def block(self, key: str) -> "Inputs | None":
        value = self.get(key)
        return Inputs(value, f"{self._where}.{key}") if value else None

    def done(self) -> None:
        unknown = sorted(
            key
            for key, value in self._values.items()
            if key not in self._read and value not in (None, [], {})
        )
        if unknown:
            raise UnsupportedDeclaration(
                f"{self._where}: the e2e harness does not implement input(s) "
                f"{', '.join(unknown)}: the program never set them before. Implement them "
                "in testing/harness/ as the provider's source does, citing it."
            )


def label_blocks(labels: dict | None) -> list[dict]:
    """Docker's labels as the provider stores them: a set of {label, value} blocks
    (terraform-provider-docker internal/provider/helpers.go:46, mapToLabelSet)."""
    return [{"label": k, "value": v} for k, v in sorted((labels or {}).items())]


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_NS_PER_UNIT = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def parse_duration(text: str) -> int:
    """A Go duration ("5s", "1m30s", "250ms") in nanoseconds, as time.ParseDuration reads it."""
    if text == "0":
        return 0
    parts = list(_DURATION_PART.finditer(text))
    if not parts or "".join(p.group(0) for p in parts) != text:
        raise HarnessError(f"{text!r} is not a duration such as 5s, 250ms or 1m30s")
    return round(sum(float(p.group(1)) * _NS_PER_UNIT[p.group(2)] for p in parts))


def format_duration(nanoseconds: int) -> str:
    """What Go's time.Duration.String() writes: "2m0s", "1h0m0s", "1.5s", "250ms", "0s"."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    ns = abs(nanoseconds)
    if ns < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if ns >= size:
                return sign + _decimal(ns, size) + unit
    hours, ns = divmod(ns, 3600 * 10**9)
    minutes, ns = divmod(ns, 60 * 10**9)
    seconds = _decimal(ns, 10**9) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{sign}{minutes}m{seconds}"
    return sign + seconds


def _decimal(value: int, unit: int) -> str:
    whole, fraction = divmod(value, unit)
    if not fraction:
        return str(whole)
    digits = str(fraction).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"
