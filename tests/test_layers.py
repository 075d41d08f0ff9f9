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


def imported_layers(path: Path) -> list[tuple[int, str]]:
    """(line, layer) for every import of a project layer in the module."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [(node.lineno, n.split(".")[0]) for n in names if n.split(".")[0] in LAYERS]
    return found


def violations(layer: str) -> list[str]:
    bad = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for line, other in imported_layers(path):
            if other != layer and other not in ALLOWED[layer]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {other}")
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


#: Code that workflows run, directly or through the modules they pass through.
WORKFLOW_REACHABLE = ("workflows", "domain", "contracts", "policies", "calendars")


def identity_keyed_caches(path: Path) -> list[str]:
    """Caches keyed by object identity (`id(...)`, `weakref`): their hits depend on which
    objects a process happens to hold, so a replay could compute through another path."""
    bad = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            if any(n.split(".")[0] == "weakref" for n in names):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} imports weakref")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "id":
            bad.append(f"{path.relative_to(ROOT)}:{node.lineno} calls id()")
    return bad


@pytest.mark.parametrize("layer", WORKFLOW_REACHABLE)
def test_no_identity_keyed_cache_is_reachable_from_workflows(layer: str) -> None:
    found = [b for p in sorted((ROOT / layer).rglob("*.py")) for b in identity_keyed_caches(p)]
    assert found == []
