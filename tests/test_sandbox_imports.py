"""Workflow modules import what they pass through by name (`from a.b import name`).

`from package import submodule` inside `imports_passed_through()` is not passed through: the
submodule is found through importlib's internals, which skip the sandbox's import hook, so it
is executed again (and, without cached bytecode, compiled) for every workflow the worker starts.
Measured in bench/workflow_bench.py: a few per cent of the worker's CPU.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_MODULES = sorted(
    [*ROOT.glob("workflows/*.py"), ROOT / "bench" / "baseline_workflow.py"],
)


def passed_through_imports(tree: ast.Module) -> list[ast.ImportFrom]:
    found: list[ast.ImportFrom] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(
            "imports_passed_through" in ast.unparse(item.context_expr) for item in node.items
        ):
            found += [n for n in ast.walk(node) if isinstance(n, ast.ImportFrom)]
    return found


def submodules_imported(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = []
    for node in passed_through_imports(tree):
        for alias in node.names:
            name = f"{node.module}.{alias.name}"
            if importlib.util.find_spec(node.module or "") and _is_module(name):
                bad.append(f"{path.name}:{node.lineno}: from {node.module} import {alias.name}")
    return bad


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize("path", WORKFLOW_MODULES, ids=lambda p: p.name)
def test_no_submodule_is_imported_by_package(path: Path) -> None:
    assert submodules_imported(path) == []


def test_the_check_finds_the_bad_form(tmp_path: Path) -> None:
    bad = tmp_path / "wf.py"
    bad.write_text(
        "from temporalio import workflow\n"
        "with workflow.unsafe.imports_passed_through():\n"
        "    from domain import views\n"
        "    from domain.views import details\n",
        encoding="utf-8",
    )
    assert submodules_imported(bad) == ["wf.py:3: from domain import views"]
