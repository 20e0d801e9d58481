"""The stack, on the target its config names: one Docker host, or a swarm."""

from infra import host, swarm
from infra.common import Stack
from infra.settings import StackConfig


def declare(config: StackConfig) -> Stack:
    return (swarm if config.target == "swarm" else host).declare(config)
