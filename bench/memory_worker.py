"""The worker process of bench/memory_bench.py: worker.py's worker (or the baseline's), answering
the driver's commands on stdin (`mem`, `trace-start`, `trace-report N`, `quit`) with one JSON
line each on stdout, so that its resident memory is the worker's alone.

    .venv/bin/python bench/memory_worker.py ADDRESS QUEUE KIND DATABASE_URL CACHE
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import gc
import json
import sys
import tracemalloc
import types
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.worker import UnsandboxedWorkflowRunner, Worker  # noqa: E402
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner  # noqa: E402

from bench.baseline_workflow import (  # noqa: E402
    BaselineApplication,
    RequiredWorkApplication,
    baseline_write,
    baseline_write_blob,
)
from core.config import Settings  # noqa: E402
from core.db import make_engine  # noqa: E402
from core.gc_tuning import tune_gc  # noqa: E402
from core.process import exit_now  # noqa: E402
from worker import build_worker  # noqa: E402

#: The kind measured outside the sandbox (bench/memory_bench.py's KINDS).
UNSANDBOXED = "unsandboxed"
#: Marks the worker's answers on its standard output (the SDK may print there too).
REPLY = "@@ "


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def malloc_trim() -> None:
    """Hand free heap pages back to the system, so RSS shows what is alive (glibc only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def memory_reading() -> dict[str, Any]:
    gc.collect()
    rss = rss_kib()
    malloc_trim()
    objects = gc.get_objects()
    return {
        "rss_kib": rss,
        "trimmed_kib": rss_kib(),
        "objects": len(objects),
        "modules": sum(isinstance(o, types.ModuleType) for o in objects),
        "module_names": Counter(o.__name__ for o in objects if isinstance(o, types.ModuleType)),
        "types": Counter(type(o).__qualname__ for o in objects),
    }


def project_frame(tb: tracemalloc.Traceback) -> str:
    """Who kept the allocation: the innermost frame in the project's code, else in the SDK
    (its sandbox, converter, runtime), else the innermost frame."""
    frames = list(tb)  # most recent call last (tracemalloc.start(..) order)
    for frame in reversed(frames):
        path = frame.filename
        if path.startswith(str(ROOT)) and "/.venv/" not in path and "/bench/" not in path:
            return f"{Path(path).relative_to(ROOT)}:{frame.lineno}"
    for frame in reversed(frames):
        if "/temporalio/" in frame.filename:
            rel = frame.filename.split("/site-packages/")[-1]
            return f"{rel}:{frame.lineno}"
    last = frames[-1]
    return f"{last.filename.split('/site-packages/')[-1]}:{last.lineno}"


def trace_report(before: tracemalloc.Snapshot, n: int) -> dict[str, Any]:
    gc.collect()
    after = tracemalloc.take_snapshot()
    by_file = after.compare_to(before, "filename")
    by_tb = after.compare_to(before, "traceback")
    culprits: Counter[str] = Counter()
    for stat in by_tb:
        culprits[project_frame(stat.traceback)] += stat.size_diff
    return {
        "total_kib_per_app": sum(s.size_diff for s in by_file) / 1024 / n,
        "by_file": [
            (s.traceback[0].filename.split("/site-packages/")[-1], s.size_diff / 1024 / n)
            for s in by_file[:15]
        ],
        "by_origin": [(k, v / 1024 / n) for k, v in culprits.most_common(20)],
    }


async def serve(address: str, queue: str, kind: str, db_url: str, cache: int) -> None:
    """The worker, as worker.py builds it, answering commands on stdin with JSON on stdout."""
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    engine = make_engine(db_url)
    settings = Settings(worker_max_cached_workflows=cache)
    loop = asyncio.get_running_loop()
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        if kind == "application":
            worker = build_worker(client, engine, queue, pool, settings)
        else:
            worker = Worker(
                client,
                task_queue=queue,
                workflows=[BaselineApplication, RequiredWorkApplication],
                activities=[baseline_write, baseline_write_blob],
                workflow_runner=(
                    UnsandboxedWorkflowRunner()
                    if kind == UNSANDBOXED
                    else SandboxedWorkflowRunner()
                ),
                activity_executor=pool,
                max_cached_workflows=cache,
            )
        tune_gc()
        running = asyncio.create_task(worker.run())
        traced: tracemalloc.Snapshot | None = None
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).split()
            if not line or line[0] == "quit":
                break
            reply: dict[str, Any]
            if line[0] == "mem":
                reply = memory_reading()
                reply["types"] = dict(reply["types"].most_common(400))
            elif line[0] == "trace-start":
                tracemalloc.start(25)
                gc.collect()
                traced = tracemalloc.take_snapshot()
                reply = {}
            elif line[0] == "trace-report" and traced is not None:
                reply = trace_report(traced, int(line[1]))
            else:
                reply = {"error": f"unknown command {line}"}
            print(REPLY + json.dumps(reply), flush=True)
        await worker.shutdown()
        running.cancel()


# -- the driver -----------------------------------------------------------------------------


if __name__ == "__main__":
    address, queue, kind, db_url, cache = sys.argv[1:6]
    asyncio.run(serve(address, queue, kind, db_url, int(cache)))
    exit_now(0)
