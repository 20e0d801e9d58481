"""The documentation holds together: README.md stays a front door that links
every page of docs/, and every relative link in them reaches a file that
exists and, with a #anchor, a heading that exists, by GitHub's anchor rules."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, *PAGES]
# "At most about 200 lines" (issue 21), with a little room for a last line or two.
README_MAX_LINES = 210

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
CODE_SPAN = re.compile(r"(`+).*?\1")
# [text](target) and ![alt](target); an optional "title" after the target.
LINK = re.compile(r"!?\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def prose(path: Path) -> list[str]:
    """The lines outside fenced code blocks, where a link or heading is one."""
    lines, fenced = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: a link keeps its text, then lower case,
    punctuation dropped (letters, digits, '_' and '-' stay), spaces to '-'."""
    text = LINK.sub(r"\1", heading)
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor of a page; GitHub numbers a repeated one -1, -2, ..."""
    seen: dict[str, int] = {}
    found = set()
    for line in prose(path):
        heading = HEADING.match(line)
        if not heading:
            continue
        name = anchor(heading.group(1))
        count = seen.get(name, 0)
        seen[name] = count + 1
        found.add(f"{name}-{count}" if count else name)
    return found


def relative_links(path: Path) -> list[str]:
    """The targets of the page's links that point inside the repository."""
    targets = []
    for line in prose(path):
        for _, target in LINK.findall(CODE_SPAN.sub("", line)):
            if target and not SCHEME.match(target):
                targets.append(target)
    return targets


def broken(path: Path, target: str) -> str | None:
    """Why a link from `path` to `target` goes nowhere, or None when it resolves."""
    file_part, _, fragment = target.partition("#")
    linked = (path.parent / file_part).resolve() if file_part else path
    if not linked.exists():
        return f"{target}: no file {os.path.relpath(linked, ROOT)}"
    if fragment and linked.suffix == ".md" and fragment not in anchors(linked):
        return (
            f"{target}: no heading with the anchor #{fragment} in {os.path.relpath(linked, ROOT)}"
        )
    return None


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        (
            "Walk-through: the data outlives the containers",
            "walk-through-the-data-outlives-the-containers",
        ),
        ("What `make up` does", "what-make-up-does"),
        ("Deleting the data, deliberately", "deleting-the-data-deliberately"),
        ("Why a small runner, not a library", "why-a-small-runner-not-a-library"),
        ("Desafio 2 — Volumes e Persistência", "desafio-2--volumes-e-persistência"),
        ("See [the API](docs/api.md)", "see-the-api"),
    ],
)
def test_anchors_follow_githubs_rules(heading, expected):
    assert anchor(heading) == expected


def test_a_repeated_heading_gets_a_numbered_anchor(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Limits\n\n## Limits\n\n```\n# not a heading\n```\n", encoding="utf-8")
    assert anchors(page) == {"limits", "limits-1"}


def test_a_link_to_a_missing_file_or_anchor_is_broken(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Here\n\n[a](page.md#here) [b](#there) [c](gone.md)\n", encoding="utf-8")
    reasons = [broken(page, target) for target in relative_links(page)]
    assert reasons[0] is None
    assert "no heading with the anchor #there" in reasons[1]
    assert "no file" in reasons[2]


def test_the_readme_stays_a_front_door():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines: move a topic to docs/"
    )


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in relative_links(README)}
    assert [page.name for page in PAGES if page not in linked] == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_resolves(document):
    reasons = [broken(document, target) for target in relative_links(document)]
    assert [reason for reason in reasons if reason] == []
