"""Workflow code reads no clock, no randomness and no I/O but Temporal's own.

The worker passes the workflow modules through the sandbox (worker.py: they are not executed
again for every workflow instance), so the sandbox's proxies no longer stand between them and
`datetime.now()` or `open()`. This test is that guard instead, over the source: every call a
workflow module makes to a clock, a random source, the environment, a file, a thread or the
database is refused, with the line that makes it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_MODULES = sorted(ROOT.glob("workflows/*.py"))

#: Attribute calls a workflow never makes (`workflow.now()` and `workflow.random()` instead).
FORBIDDEN_METHODS = {"now", "utcnow", "today", "monotonic", "perf_counter", "uuid4",
                     "uuid1", "urandom", "getenv", "sleep_sync"}  # fmt: skip
#: Modules whose use in workflow code would be I/O or non-determinism.
FORBIDDEN_MODULES = {"random", "uuid", "os", "time", "threading", "socket", "subprocess",
                     "sqlalchemy", "sqlmodel", "httpx", "requests", "secrets"}  # fmt: skip
FORBIDDEN_NAMES = {"open", "input", "print"}


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Attribute) and fn.attr in FORBIDDEN_METHODS:
                owner = ast.unparse(fn.value)
                if owner != "workflow":
                    found.append(f"{where}: {owner}.{fn.attr}()")
            if isinstance(fn, ast.Name) and fn.id in FORBIDDEN_NAMES:
                found.append(f"{where}: {fn.id}()")
        elif isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names
                      if a.name.split(".")[0] in FORBIDDEN_MODULES]  # fmt: skip
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
            FORBIDDEN_MODULES
        ):
            found.append(f"{where}: from {node.module} import ...")
    return found


@pytest.mark.parametrize("path", WORKFLOW_MODULES, ids=lambda p: p.name)
def test_workflow_code_reads_no_clock_randomness_or_io(path: Path) -> None:
    assert violations(path) == []


def test_the_guard_finds_what_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "probe.py"
    bad.write_text(
        "import random\nfrom datetime import datetime\n"
        "def f():\n    open('x')\n    return datetime.now(), workflow.now()\n",
        encoding="utf-8",
    )
    found = violations(bad)
    assert [v.split(": ", 1)[1] for v in found] == ["import random", "open()", "datetime.now()"]
