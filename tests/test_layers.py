"""The layers ARCHITECTURE.md draws, enforced: cli -> tui -> session / exporters ->
importers -> core. A module may import its own package and the packages below it, never
one above or beside it; imports inside functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# each package and what it may import besides itself
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "importers": frozenset({"core"}),
    "exporters": frozenset({"core", "importers"}),
    "session": frozenset({"core", "importers"}),
    "tui": frozenset({"core", "importers", "exporters", "session"}),
    "cli": frozenset({"core", "importers", "exporters", "session", "tui"}),
}


def imported_packages(path: Path) -> list[tuple[int, str]]:
    """(line, package) of every ``coa_audit.<package>`` the module imports, and of every
    relative import that leaves its package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level > 1:
                found.append((node.lineno, "<relative import past the package>"))
                continue
            if node.level == 0 and node.module:
                names = [node.module]
                if node.module == "coa_audit":  # from coa_audit import tui
                    names = [f"coa_audit.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "coa_audit" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def violations(root: Path) -> list[str]:
    out = []
    for package, allowed in ALLOWED.items():
        for path in sorted((root / package).rglob("*.py")):
            for line, target in imported_packages(path):
                if target != package and target not in allowed:
                    where = path.relative_to(root)
                    out.append(f"{where}:{line} imports {target} ({package} may import "
                               f"{', '.join(sorted(allowed)) or 'nothing else'})")  # fmt: skip
    return out


def test_every_package_imports_only_the_layers_below_it() -> None:
    assert violations(ROOT) == []


@pytest.mark.parametrize(
    ("package", "line", "bad"),
    [
        ("core", "from coa_audit.importers.load import load_inventory", "importers"),
        ("importers", "import coa_audit.session.session", "session"),
        ("exporters", "    from coa_audit.tui.app import CoaAuditApp", "tui"),
        ("session", "from coa_audit import exporters", "exporters"),
        ("tui", "from coa_audit.cli.main import app", "cli"),
    ],
)
def test_a_scratch_import_against_the_layers_is_caught(
    tmp_path: Path, package: str, line: str, bad: str
) -> None:
    for name in ALLOWED:
        (tmp_path / name).mkdir()
    body = f"def f() -> None:\n{line}\n" if line.startswith(" ") else f"{line}\n"
    (tmp_path / package / "scratch.py").write_text(body, encoding="utf-8")
    found = violations(tmp_path)
    assert len(found) == 1 and f"imports {bad}" in found[0], found
