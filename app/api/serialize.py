"""Rows to JSON-ready dicts. Timestamps leave as ISO 8601 (Flask alone would
write them as HTTP dates)."""

from datetime import datetime


def row_to_dict(columns: tuple[str, ...], row: tuple) -> dict:
    return {
        column: value.isoformat() if isinstance(value, datetime) else value
        for column, value in zip(columns, row, strict=True)
    }


def rows_to_dicts(columns: tuple[str, ...], rows: list[tuple]) -> list[dict]:
    return [row_to_dict(columns, row) for row in rows]
