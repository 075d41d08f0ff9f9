"""What the benchmarks that need Temporal share: the embedded dev server as a deployment runs
it, and the workflow modules compiled as `make run` compiles them."""

from __future__ import annotations

import compileall
import sys
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from contracts import search_attributes

ROOT = Path(__file__).resolve().parent.parent


async def start_dev_server(tmp: str) -> WorkflowEnvironment:
    """The embedded dev server on a SQLite file in WAL mode, as a deployment runs it."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL,
        dev_server_database_filename=f"{tmp}/temporal.db",
        dev_server_extra_args=[
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
        ],
    )


def compile_workflow_modules() -> None:
    """As `make run` does: the sandbox re-imports a workflow's module for every workflow it
    starts, and where PYTHONDONTWRITEBYTECODE is set it would compile it from source each time."""
    compileall.compile_dir(ROOT / "workflows", quiet=1)
    compileall.compile_file(ROOT / "bench" / "baseline_workflow.py", quiet=1)
