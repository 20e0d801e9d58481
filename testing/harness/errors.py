"""What the harness raises."""


class StackError(Exception):
    """A Pulumi operation (up, destroy) of an e2e stack failed, on either backend: on
    the harness, what it refused or what Docker or the simulated provider refused; on
    the real engine (testing/live/pulumi_backend.py), the engine's diagnostics. A
    test that asserts a failure expects this, and holds on both."""


class HarnessError(StackError):
    """The harness cannot do what the program asks, or Docker (or the provider) refused it."""


class UnsupportedDeclaration(HarnessError):
    """A resource type, input or option the program never used before, so the harness
    does not simulate it."""
