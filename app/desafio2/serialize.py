"""Rows to JSON-ready dicts. Timestamps leave as RFC 3339 with all six
fractional digits, the same string the lists get from PostgreSQL (queries.py);
Flask alone would write them as HTTP dates."""

from datetime import datetime


def row_to_dict(columns: tuple[str, ...], row: tuple) -> dict:
    return {
        column: value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value
        for column, value in zip(columns, row, strict=True)
    }
