"""What the harness raises."""


class HarnessError(Exception):
    """The harness cannot do what the program asks, or Docker (or the provider) refused it."""


class UnsupportedDeclaration(HarnessError):
    """A resource type, input or option the program never used before, so the harness
    does not simulate it."""
