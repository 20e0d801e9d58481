"""bench/results.md holds what two commands write: `make bench` the whole file,
`make bench-lifecycle` its section "## Lifecycle". Each keeps the other's part."""

from pathlib import Path

LIFECYCLE = "## Lifecycle"


def split(text: str, heading: str) -> tuple[str, str]:
    """(the text without the section `heading`, the section), the section running to
    the next heading of its level or the end."""
    start = ("\n" + text).find(f"\n{heading}\n")
    if start < 0:
        return text, ""
    end = text.find("\n## ", start + len(heading))
    end = len(text) if end < 0 else end + 1
    return text[:start] + text[end:], text[start:end]


def write_keeping(path: Path, text: str, heading: str) -> None:
    """Writes text to path, keeping the section `heading` that path holds now."""
    kept = split(path.read_text(encoding="utf-8"), heading)[1] if path.exists() else ""
    path.write_text(text.rstrip("\n") + ("\n\n" + kept if kept else "\n"), encoding="utf-8")


def replace(path: Path, heading: str, section: str) -> None:
    """Writes section (starting with heading) in place of the one path holds, or at its end."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    rest, _ = split(text, heading)
    path.write_text(rest.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n", encoding="utf-8")
