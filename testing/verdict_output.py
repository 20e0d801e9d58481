"""Reading what scripts/verdict.py printed, in the tests of make up's verdict."""


def section(output: str, name: str) -> str:
    """What the verdict says of one container, below its table."""
    return output.split(f"\n{name}: ", 1)[1].split("\n\n", 1)[0]
