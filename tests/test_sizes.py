"""The size rule of the codebase, checked on every tracked Python file.

A module or a function too big to hold in one's head is split: modules stay under ~500 lines,
functions and methods under ~80, in all code, tests and benches included. Test modules, whose
length is mostly independent cases side by side, are allowed more.
"""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MODULE_LINES = 500
TEST_MODULE_LINES = 800
FUNCTION_LINES = 80

#: Never project code, whether or not git knows of them.
SKIPPED = frozenset({".venv", "data", "build"})

WHY = "too big to hold in one's head; split it"


def python_files() -> list[Path]:
    """The tracked .py files; outside a git checkout, every .py file under the project dirs."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--", "*.py"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            text=True,
        ).stdout.split("\0")
        paths = [ROOT / name for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        paths = list(ROOT.rglob("*.py"))
    return sorted(p for p in paths if p.is_file() and not SKIPPED & set(p.relative_to(ROOT).parts))


def module_limit(relative: Path) -> int:
    return TEST_MODULE_LINES if relative.parts[0] == "tests" else MODULE_LINES


def oversized(path: Path, root: Path = ROOT) -> list[str]:
    """One message per module or function of `path` over its limit."""
    relative = path.relative_to(root)
    source = path.read_text(encoding="utf-8")
    found = []
    lines = len(source.splitlines())
    limit = module_limit(relative)
    if lines > limit:
        found.append(f"{relative}: module of {lines} lines (limit {limit}): {WHY}")
    for node, qualname in functions(ast.parse(source)):
        length = (node.end_lineno or node.lineno) - node.lineno + 1
        if length > FUNCTION_LINES:
            found.append(
                f"{relative}:{node.lineno} {qualname} is {length} lines "
                f"(limit {FUNCTION_LINES}): {WHY}"
            )
    return found


def functions(
    tree: ast.AST, prefix: str = ""
) -> list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]]:
    """Every function and method, nested ones included, with its dotted name."""
    found: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, str]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append((node, prefix + node.name))
            found += functions(node, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            found += functions(node, f"{prefix}{node.name}.")
        else:
            found += functions(node, prefix)
    return found


def test_modules_and_functions_are_small_enough_to_hold_in_ones_head() -> None:
    files = python_files()
    assert len(files) > 50, "the walk found too few files to be the project"
    found = [message for path in files for message in oversized(path)]
    assert not found, "\n".join(found)


def test_the_check_names_a_long_function_and_a_long_module(tmp_path: Path) -> None:
    body = "".join(f"        x{i} = {i}\n" for i in range(FUNCTION_LINES))
    source = (
        f"class C:\n    async def run(self) -> None:\n{body}\n\ndef short() -> None:\n    pass\n"
    )
    source += "\n" * (MODULE_LINES - len(source.splitlines()) + 1)
    module = tmp_path / "bench" / "_size_probe.py"
    module.parent.mkdir()
    module.write_text(source, encoding="utf-8")
    found = oversized(module, tmp_path)
    assert found == [
        f"bench/_size_probe.py: module of {MODULE_LINES + 1} lines (limit {MODULE_LINES}): {WHY}",
        f"bench/_size_probe.py:2 C.run is {FUNCTION_LINES + 1} lines "
        f"(limit {FUNCTION_LINES}): {WHY}",
    ]


def test_test_modules_have_the_larger_limit() -> None:
    assert module_limit(Path("tests/test_x.py")) == TEST_MODULE_LINES
    assert module_limit(Path("policies/schema.py")) == MODULE_LINES
