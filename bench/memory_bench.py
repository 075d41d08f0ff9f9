"""Worker memory per cached ConnectionApplication, beside the minimal baseline workflow.

    .venv/bin/python bench/memory_bench.py [--apps 200,400] [--events 3] [--trace 100]
                                           [--miss 60] [--miss-cache 100]

Starts the embedded dev server here and the worker in a separate process (so its resident
memory is the worker's alone), as worker.py builds it. For each kind of workflow
(ConnectionApplication; BaselineApplication, bench/baseline_workflow.py) a fresh worker process
is measured idle, then with N open workflows, each started and given `--events` updates, all in
the SDK's sticky cache (it holds WORKER_MAX_CACHED_WORKFLOWS, 1,000 by default). Before each
reading the worker runs a full collection; it reports its RSS as it is and after returning free
heap pages to the system (malloc_trim), and the objects and modules the collector tracks.

Prints, per kind, RSS per cached workflow = (RSS_N - RSS_0) / N, its ratio to the baseline's,
and with --trace the allocations that a cached application keeps (tracemalloc, in one more
worker process), attributed to the project's or the SDK's code that made them. With --miss, the
cost of a cache miss: the time of an update on an application evicted from the cache (replayed
from its history) against the same update on one in the cache, p50/p99 and their ratio, with a
cache of --miss-cache workflows (what a miss costs depends on the application's history, not on
the size of the cache).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.client import Client, WorkflowHandle  # noqa: E402

from bench.baseline_workflow import (  # noqa: E402
    BaselineApplication,
    RequiredWorkApplication,
    RequiredWorkStart,
)
from bench.dev_server import compile_workflow_modules, start_dev_server  # noqa: E402
from bench.memory_worker import REPLY  # noqa: E402
from contracts.application import (  # noqa: E402
    ApplicationInput,
    ApplicationProfile,
    Customer,
    RecordEventRequest,
    workflow_id,
)
from core.db import make_engine  # noqa: E402
from core.process import exit_now  # noqa: E402
from domain.start import start_input  # noqa: E402
from domain.views import initial_search_attributes  # noqa: E402
from readmodel import init_db  # noqa: E402
from readmodel.demo_org import seed_demo_org  # noqa: E402
from workflows.connection_application import ConnectionApplication  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
#: The lifecycle's first events, in an order the rules accept (bench/workflow_bench.py's).
EVENTS = [
    "joint_survey.started",
    "site_survey.started",
    "joint_survey.completed",
    "site_survey.completed",
    "plan_reply.completed",
    "joint_drawing_review.started",
    "joint_drawing_review.completed",
    "customer_works.started",
    "customer_works.completed",
]
#: What --kinds may name. `application`: ConnectionApplication; `baseline`: BaselineApplication
#: (always measured: the ratios are to it); `payload`: the baseline carrying a start input of
#: the real one's size (RequiredWorkApplication, doing nothing else): what the SDK keeps of a
#: start input; `unsandboxed`: the baseline outside the sandbox: what the sandbox costs.
KINDS = ("application", "baseline", "payload", "unsandboxed")
BASELINE = "baseline"
PAYLOAD = "payload"
UNSANDBOXED = "unsandboxed"
#: Workflows opened before the first reading: the worker's threads, the SDK's and pydantic's
#: caches, the shared policy reach their size with the first few, not per workflow.
WARM_UP = 32


# -- the worker process ---------------------------------------------------------------------


class WorkerProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(
        cls, address: str, queue: str, kind: str, db_url: str, cache: int, traced: bool = False
    ) -> WorkerProcess:
        # Traced, a workflow task runs several times slower: past the SDK's deadlock detector
        # (2 s), which debug mode turns off (the sandbox stays as it is).
        env = {**os.environ, "TEMPORAL_DEBUG": "1"} if traced else None
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "bench" / "memory_worker.py"),
            address,
            queue,
            kind,
            db_url,
            str(cache),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        return cls(proc)

    async def ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{command}\n".encode())
        await self.proc.stdin.drain()
        while True:
            line = (await self.proc.stdout.readline()).decode()
            if not line:
                raise RuntimeError(f"the worker process ended ({await self.proc.wait()})")
            if line.startswith(REPLY):
                answer: dict[str, Any] = json.loads(line[len(REPLY) :])
                return answer
            print(f"worker: {line}", end="", file=sys.stderr)

    async def settle(self) -> dict[str, Any]:
        """A reading once the worker is idle: two in a row within 1% of each other."""
        last = await self.ask("mem")
        for _ in range(10):
            await asyncio.sleep(1.0)
            now = await self.ask("mem")
            if abs(now["rss_kib"] - last["rss_kib"]) <= 0.01 * last["rss_kib"]:
                return now
            last = now
        return last

    async def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"quit\n")
        await self.proc.stdin.drain()
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


def application_input(no: str) -> ApplicationInput:
    return ApplicationInput(
        application_no=no,
        profile=ApplicationProfile(
            unit="henan/sanmenxia",
            business_type="hv",
            voltage="10kV",
            capacity_kva=630,
            accepted_at=datetime.now(TZ).replace(microsecond=0),
        ),
        customer=Customer(name="压测客户"),
    )


async def open_application(client: Client, queue: str, events: int) -> WorkflowHandle[Any, Any]:
    no = f"M{uuid.uuid4().hex[:12].upper()}"
    inp = application_input(no)
    handle = await client.start_workflow(
        ConnectionApplication.run,
        start_input(inp),
        id=workflow_id(no),
        task_queue=queue,
        search_attributes=initial_search_attributes(inp),
    )
    for event in EVENTS[:events]:
        await handle.execute_update(
            ConnectionApplication.record_event, RecordEventRequest(event=event)
        )
    return handle


async def open_baseline(client: Client, queue: str, events: int) -> WorkflowHandle[Any, Any]:
    handle = await client.start_workflow(
        BaselineApplication.run, len(EVENTS), id=f"mbase-{uuid.uuid4()}", task_queue=queue
    )
    for event in EVENTS[:events]:
        await handle.execute_update(BaselineApplication.record, event)
    return handle


async def open_many(
    n: int, one: Callable[[], Awaitable[WorkflowHandle[Any, Any]]], at_once: int = 16
) -> list[WorkflowHandle[Any, Any]]:
    gate = asyncio.Semaphore(at_once)

    async def guarded() -> WorkflowHandle[Any, Any]:
        async with gate:
            return await one()

    handles = list(await asyncio.gather(*(guarded() for _ in range(n))))
    await all_idle(handles)
    return handles


async def all_idle(handles: list[WorkflowHandle[Any, Any]]) -> None:
    """Until no workflow has a task to run: a started workflow is not in the cache yet."""
    gate = asyncio.Semaphore(16)

    async def idle(handle: WorkflowHandle[Any, Any]) -> None:
        async with gate:
            for _ in range(600):
                desc = await handle.describe()
                if not desc.raw_description.HasField("pending_workflow_task"):
                    return
                await asyncio.sleep(0.2)
            raise TimeoutError(f"{handle.id} still has a workflow task to run")

    await asyncio.gather(*(idle(h) for h in handles))


async def open_payload(client: Client, queue: str, events: int) -> WorkflowHandle[Any, Any]:
    start = RequiredWorkStart(
        plan=[(False, False)],
        start_payload=start_input(application_input("MPAYLOAD0000")).model_dump_json(),
        write_sizes=[10],
        answer_sizes=[10],
    )
    handle = await client.start_workflow(
        RequiredWorkApplication.run, start, id=f"mpay-{uuid.uuid4()}", task_queue=queue
    )
    for event in EVENTS[:events]:
        await handle.execute_update(RequiredWorkApplication.record, event)
    return handle


def opener(
    kind: str, client: Client, queue: str, events: int
) -> Callable[[], Awaitable[WorkflowHandle[Any, Any]]]:
    if kind == "application":
        return lambda: open_application(client, queue, events)
    if kind == PAYLOAD:
        return lambda: open_payload(client, queue, events)
    return lambda: open_baseline(client, queue, events)


async def measure_kind(
    kind: str, client: Client, address: str, db_url: str, steps: list[int], events: int
) -> list[tuple[int, dict[str, Any]]]:
    queue = f"mem-{kind}-{uuid.uuid4().hex[:6]}"
    proc = await WorkerProcess.start(address, queue, kind, db_url, 1000)
    try:
        await open_many(WARM_UP, opener(kind, client, queue, events))
        readings = [(0, await proc.settle())]
        opened = 0
        for target in steps:
            await open_many(target - opened, opener(kind, client, queue, events))
            opened = target
            readings.append((opened, await proc.settle()))
    finally:
        await proc.stop()
    return readings


async def trace_kind(
    kind: str, client: Client, address: str, db_url: str, n: int, events: int
) -> dict[str, Any]:
    queue = f"mem-trace-{uuid.uuid4().hex[:6]}"
    proc = await WorkerProcess.start(address, queue, kind, db_url, 1000, traced=True)
    try:
        # A few first: what every workflow shares (imports, caches) is not counted.
        await open_many(4, opener(kind, client, queue, events), at_once=4)
        await proc.ask("trace-start")
        await open_many(n, opener(kind, client, queue, events), at_once=4)
        await asyncio.sleep(2)
        return await proc.ask(f"trace-report {n}")
    finally:
        await proc.stop()


async def cache_miss(
    client: Client, address: str, db_url: str, n: int, cache: int, events: int
) -> tuple[list[float], list[float]]:
    """Updates on evicted applications (each replayed from its history), then the same
    updates on the same applications, now in the cache."""
    queue = f"mem-miss-{uuid.uuid4().hex[:6]}"
    proc = await WorkerProcess.start(address, queue, "application", db_url, cache)
    try:
        handles = await open_many(n + cache, opener("application", client, queue, events))
        # Started in parallel: wait until none runs, then order by start (the cache's LRU).
        await asyncio.sleep(2)
        first = handles[:n]
        misses: list[float] = []
        hits: list[float] = []
        for round_, out in ((events, misses), (events + 1, hits)):
            for h in first:
                req = RecordEventRequest(event=EVENTS[round_])
                t = time.perf_counter()
                await h.execute_update(ConnectionApplication.record_event, req)
                out.append(time.perf_counter() - t)
        return misses, hits
    finally:
        await proc.stop()


def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1] * 1000 if len(values) > 1 else 0.0


def slope(readings: list[tuple[int, dict[str, Any]]], field: str) -> float:
    """KiB per workflow: least squares over the readings (N, value)."""
    xs = [n for n, _ in readings]
    ys = [float(r[field]) for _, r in readings]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def print_kind(kind: str, readings: list[tuple[int, dict[str, Any]]]) -> None:
    print(f"  {kind}:")
    for n, r in readings:
        print(
            f"    N={n:>4}  RSS {r['rss_kib'] / 1024:7.1f} MiB  trimmed "
            f"{r['trimmed_kib'] / 1024:7.1f} MiB  objects {r['objects']:>8}  "
            f"modules {r['modules']:>5}"
        )
    n, top = readings[-1]
    base = readings[0][1]["types"]
    grown = Counter({t: c - base.get(t, 0) for t, c in top["types"].items()})
    print(
        "    objects per workflow, most common types: "
        + ", ".join(f"{t} {c / n:.1f}" for t, c in grown.most_common(8))
    )
    names = Counter(top["module_names"])
    names.subtract(readings[0][1]["module_names"])
    print(
        "    modules per workflow (the sandbox's own copies): "
        + ", ".join(f"{m} {c / n:.1f}" for m, c in names.most_common() if c >= n / 2)
    )


async def main(args: argparse.Namespace) -> None:
    compile_workflow_modules()
    steps = [int(s) for s in args.apps.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        db_url = f"sqlite:///{tmp}/app.db"
        engine = make_engine(db_url)
        init_db(engine)
        seed_demo_org(engine)
        engine.dispose()
        env = await start_dev_server(tmp)
        async with env:
            client = env.client
            address = client.service_client.config.target_host
            results = {
                kind: await measure_kind(kind, client, address, db_url, steps, args.events)
                for kind in dict.fromkeys([*args.kinds.split(","), BASELINE])
            }
            report(args, results)
            for kind in results if args.trace else ():
                traced = await trace_kind(kind, client, address, db_url, args.trace, args.events)
                report_trace(kind, traced, results[kind])
            if args.miss:
                report_miss(
                    args,
                    *await cache_miss(
                        client, address, db_url, args.miss, args.miss_cache, args.events
                    ),
                )


LABELS = {
    "application": "ConnectionApplication",
    BASELINE: "baseline",
    PAYLOAD: "baseline + start payload",
    UNSANDBOXED: "baseline, unsandboxed",
}


def report(args: argparse.Namespace, results: dict[str, list[tuple[int, dict[str, Any]]]]) -> None:
    print(f"worker memory per cached workflow ({args.events} updates each, one worker process)")
    for kind, readings in results.items():
        print_kind(kind, readings)
    base = results[BASELINE]
    print(f"  {'per cached workflow, KiB':28}{'RSS':>8}{'trimmed':>9}{'ratio':>7}{'modules':>9}")
    for kind, readings in results.items():
        rss, trimmed = slope(readings, "rss_kib"), slope(readings, "trimmed_kib")
        print(
            f"  {LABELS[kind]:28}{rss:>8.0f}{trimmed:>9.0f}"
            f"{rss / slope(base, 'rss_kib'):>7.2f}{slope(readings, 'modules'):>9.2f}"
        )
    sys.stdout.flush()


def report_trace(
    kind: str, traced: dict[str, Any], readings: list[tuple[int, dict[str, Any]]]
) -> None:
    rss = slope(readings, "rss_kib")
    total = traced["total_kib_per_app"]
    print(
        f"  {LABELS[kind]}: traced (tracemalloc, the Python heap) {total:.0f} KiB per workflow, "
        f"the rest of its RSS {rss - total:.0f} KiB (the SDK's native side, allocator slack)"
    )
    if kind == "application":
        print("  by the code that allocated it:")
        for where, kib in traced["by_origin"]:
            print(f"    {kib:7.1f} KiB  {where}")
        print("  by file:")
        for where, kib in traced["by_file"]:
            print(f"    {kib:7.1f} KiB  {where}", flush=True)


def report_miss(args: argparse.Namespace, misses: list[float], hits: list[float]) -> None:
    if misses:
        print(
            f"  cache miss ({len(misses)} updates, cache of {args.miss_cache}): "
            f"evicted p50 {pct(misses, 50):.1f} ms p99 {pct(misses, 99):.1f} ms; "
            f"cached p50 {pct(hits, 50):.1f} ms p99 {pct(hits, 99):.1f} ms; "
            f"ratio p50 {pct(misses, 50) / pct(hits, 50):.2f}, "
            f"p99 {pct(misses, 99) / pct(hits, 99):.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", default="200,400", help="numbers of open workflows measured")
    parser.add_argument("--events", type=int, default=3, help="updates given to each")
    parser.add_argument("--trace", type=int, default=0, help="applications traced (0: none)")
    parser.add_argument("--kinds", default="application", help=f"of {', '.join(KINDS)}")
    parser.add_argument("--miss", type=int, default=0, help="updates timed on evicted ones")
    parser.add_argument("--miss-cache", type=int, default=100, help="cache size for --miss")
    parsed = parser.parse_args()
    asyncio.run(main(parsed))
    exit_now(0)
