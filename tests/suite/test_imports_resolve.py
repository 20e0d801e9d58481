"""Every import of the project's own modules names a module that exists, the
imports inside functions included: those run only on one path (the real
Pulumi engine's backend, say), which CI may never take, so a module moved
without them would fail only there."""

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Where pytest, the program and the app find the project's packages (pyproject.toml).
SEARCH_ROOTS = (ROOT, ROOT / "app")
FIRST_PARTY = {"desafio2", "infra", "tests", "bench", "testing"}


def tracked_python_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [ROOT / name for name in listed.stdout.split()]


def module_exists(dotted: str) -> bool:
    parts = dotted.split(".")
    for root in SEARCH_ROOTS:
        base = root.joinpath(*parts)
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return True
    return False


def first_party_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of each absolute import of the project's packages; for
    `from package import name`, package.name when that is a module itself."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            modules += [
                f"{node.module}.{alias.name}"
                for alias in node.names
                if module_exists(f"{node.module}.{alias.name}")
            ]
        else:
            continue
        found += [(node.lineno, m) for m in modules if m.split(".")[0] in FIRST_PARTY]
    return found


FILES = tracked_python_files()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_import_of_the_project_names_a_module_that_exists(path):
    missing = [
        f"line {line}: {module}"
        for line, module in first_party_imports(path)
        if not module_exists(module)
    ]
    assert not missing, f"{path.relative_to(ROOT)} imports what is not there: {missing}"
