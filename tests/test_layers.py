"""The layer rule of the design (DESIGN.md §2), checked on every module's imports.

Each layer imports only the layers listed for it; anything else (the process entry points
`worker.py` and `launcher.py`, tests, benches, scripts) may import anything. Imports inside
functions count as much as those at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

ALLOWED: dict[str, frozenset[str]] = {
    "api": frozenset(
        {"workflows", "domain", "readmodel", "core", "contracts", "policies", "calendars"}
    ),
    "workflows": frozenset({"activities", "domain", "contracts", "policies", "calendars"}),
    "activities": frozenset({"domain", "readmodel", "core", "contracts", "policies", "calendars"}),
    "domain": frozenset({"contracts", "policies", "calendars"}),
    "readmodel": frozenset({"core", "contracts"}),
    "core": frozenset({"contracts", "policies", "calendars"}),
    "contracts": frozenset({"policies", "calendars"}),
    "policies": frozenset({"calendars"}),
    "calendars": frozenset(),
}
LAYERS = frozenset(ALLOWED)
# Where the code does not follow the rule yet; each entry is removed as its module is moved.
EXEMPT: frozenset[str] = frozenset({"api/routes/notifications.py:14 imports activities"})


def imported_layers(path: Path) -> list[tuple[int, str]]:
    """(line, layer) for every import of a project layer in the module."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        line = 0
        if isinstance(node, ast.Import):
            names, line = [alias.name for alias in node.names], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names, line = [node.module], node.lineno
        found += [(line, n.split(".")[0]) for n in names if n.split(".")[0] in LAYERS]
    return found


def violations(layer: str) -> list[str]:
    bad = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for line, other in imported_layers(path):
            found = f"{path.relative_to(ROOT)}:{line} imports {other}"
            if other != layer and other not in ALLOWED[layer] and found not in EXEMPT:
                bad.append(found)
    return bad


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_the_layers_below(layer: str) -> None:
    assert violations(layer) == []


def test_every_package_is_a_layer() -> None:
    """A new top-level package must be placed in the rule before it can be imported."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages - {"tests", "bench", "scripts"} <= LAYERS


def test_the_check_finds_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\nfrom workflows.x import y\n\ndef f():\n    import api.app\n")
    assert imported_layers(module) == [(2, "workflows"), (5, "api")]
