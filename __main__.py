"""Pulumi entry point. The stack itself lives in infra/ so that tests can import it."""

from infra import config, stack

stack.declare(config.load())
