"""Pulumi's wire form of secrets, as the mock runtime hands inputs over."""

from collections.abc import Iterator

from pulumi.runtime import rpc


def plain_strings(value) -> Iterator[str]:
    """Every string in a tree of inputs or outputs, leaving out what Pulumi marks secret."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return
        for item in value.values():
            yield from plain_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from plain_strings(item)
    elif isinstance(value, str):
        yield value
