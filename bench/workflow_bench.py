"""ConnectionApplication against the embedded dev server, beside a minimal baseline.

    .venv/bin/python bench/workflow_bench.py [--apps N] [--concurrency C]

Runs N complete Henan 10 kV lifecycles (22 events each, time compressed: accepted 40 days ago,
events replayed quickly, so every warning falls due along the way) and the same number of
baseline workflows with the same updates and local activities, in one process on one dev
server (SQLite file, WAL). Prints applications/s, history events per application, record_event
latency p50/p99, worker memory, and the ratios. Targets: within 1.3x of the baseline's
throughput; under 300 history events for a complete lifecycle.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.client import Client  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from bench.baseline_workflow import (  # noqa: E402
    BaselineApplication,
    BaselineDbWrite,
    baseline_write,
)
from calendars import get_calendar  # noqa: E402
from core.applications import start_input  # noqa: E402
from core.db import init_db, make_engine  # noqa: E402
from worker import build_worker  # noqa: E402
from workflows import search_attributes  # noqa: E402
from workflows.connection_application import (  # noqa: E402
    ConnectionApplication,
    initial_search_attributes,
)
from workflows.models import (  # noqa: E402
    ApplicationInput,
    ApplicationProfile,
    Customer,
    RecordEventRequest,
    workflow_id,
)

TZ = ZoneInfo("Asia/Shanghai")
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
    "completion_inspection.started",
    "joint_acceptance.started",
    "joint_acceptance.completed",
    "completion_inspection.completed",
    "contract.completed",
    "meter_install.completed",
    "dispatch_agreement.completed",
    "outage_plan.started",
    "outage_plan.completed",
    "energize.completed",
    "terminal_commissioning.started",
    "terminal_commissioning.completed",
    "archive.started",
    "archive.completed",
]


CPU_SECONDS: list[float] = []


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def real_lifecycle(client: Client, tq: str, latencies: list[float]) -> str:
    now = datetime.now(TZ).replace(microsecond=0)
    accepted = get_calendar("CN").add_work_time(now, -timedelta(days=30))
    no = f"B{uuid.uuid4().hex[:12].upper()}"
    inp = ApplicationInput(
        application_no=no,
        profile=ApplicationProfile(
            unit="henan/sanmenxia",
            business_type="hv",
            voltage="10kV",
            capacity_kva=630,
            accepted_at=accepted,
        ),
        customer=Customer(name="压测客户"),
    )
    handle = await client.start_workflow(
        ConnectionApplication.run,
        start_input(inp),
        id=workflow_id(no),
        task_queue=tq,
        search_attributes=initial_search_attributes(inp),
    )
    step = (now - accepted) / (len(EVENTS) + 1)
    for i, event in enumerate(EVENTS, start=1):
        t = time.perf_counter()
        await handle.execute_update(
            ConnectionApplication.record_event,
            RecordEventRequest(event=event, at=accepted + i * step),
        )
        latencies.append(time.perf_counter() - t)
    await handle.result()
    return handle.id


async def baseline_lifecycle(client: Client, tq: str, latencies: list[float]) -> str:
    handle = await client.start_workflow(
        BaselineApplication.run, len(EVENTS), id=f"base-{uuid.uuid4()}", task_queue=tq
    )
    for event in EVENTS:
        t = time.perf_counter()
        await handle.execute_update(BaselineApplication.record, event)
        latencies.append(time.perf_counter() - t)
    await handle.result()
    return handle.id


def baseline(client: Client, tq: str, lat: list[float]) -> Callable[[], Awaitable[str]]:
    return lambda: baseline_lifecycle(client, tq, lat)


async def run_many(
    n: int, concurrency: int, one: Callable[[], Awaitable[str]]
) -> tuple[float, list[str]]:
    gate = asyncio.Semaphore(concurrency)

    async def guarded() -> str:
        async with gate:
            return await one()

    t = time.perf_counter()
    cpu = time.process_time()
    ids = await asyncio.gather(*(guarded() for _ in range(n)))
    CPU_SECONDS.append(time.process_time() - cpu)
    return time.perf_counter() - t, list(ids)


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] * 1000 if len(values) > 1 else 0.0


async def main(apps: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = await WorkflowEnvironment.start_local(
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
        engine = make_engine(f"sqlite:///{tmp}/app.db")
        init_db(engine)
        async with env:
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                base_lat: list[float] = []
                real_lat: list[float] = []
                baselines: dict[str, float] = {}
                for label, act in (
                    ("no-op activities", baseline_write),
                    ("DB-write activities", BaselineDbWrite(engine).write),
                ):
                    async with Worker(
                        env.client,
                        task_queue=f"baseline-{label}",
                        workflows=[BaselineApplication],
                        activities=[act],
                        activity_executor=pool,
                    ):
                        tq = f"baseline-{label}"
                        lat = base_lat if label.startswith("DB") else []
                        await run_many(2, 2, baseline(env.client, tq, []))
                        secs, base_ids = await run_many(
                            apps, concurrency, baseline(env.client, tq, lat)
                        )
                        baselines[label] = apps / secs
                rss0 = rss_mib()
                async with build_worker(env.client, engine, "bench", pool):
                    await run_many(2, 2, lambda: real_lifecycle(env.client, "bench", []))
                    real_s, real_ids = await run_many(
                        apps, concurrency, lambda: real_lifecycle(env.client, "bench", real_lat)
                    )
                    rss1 = rss_mib()
                real_hist = await env.client.get_workflow_handle(real_ids[0]).fetch_history()
                base_hist = await env.client.get_workflow_handle(base_ids[0]).fetch_history()
    real_rate = apps / real_s
    base_rate = baselines["DB-write activities"]
    print(f"{apps} lifecycles of {len(EVENTS)} events each, {concurrency} at a time")
    print(f"{'':34}{'ConnectionApplication':>22}{'baseline':>10}{'ratio':>7}")
    for label, rate in baselines.items():
        row = f"{'applications/s vs ' + label:34}{real_rate:>22.2f}{rate:>10.2f}"
        print(f"{row}{rate / real_rate:>7.2f}")
    print(
        f"{'history events / application':34}{len(real_hist.events):>22}"
        f"{len(base_hist.events):>10}{len(real_hist.events) / len(base_hist.events):>7.2f}"
    )
    for label, p in (("record_event p50 ms", 50), ("record_event p99 ms", 99)):
        r, b = pct(real_lat, p), pct(base_lat, p)
        print(f"{label:34}{r:>22.1f}{b:>10.1f}{r / b:>7.2f}")
    base_cpu, real_cpu = CPU_SECONDS[3] / apps * 1000, CPU_SECONDS[5] / apps * 1000
    row = f"{'worker CPU ms / application':34}{real_cpu:>22.0f}{base_cpu:>10.0f}"
    print(f"{row}{real_cpu / base_cpu:>7.2f}")
    print(f"{'worker process RSS MiB':34}{rss1:>22.0f}   (+{rss1 - rss0:.0f} during the run)")
    target = "met" if base_rate / real_rate <= 1.3 else "MISSED"
    events = "met" if len(real_hist.events) < 300 else "MISSED"
    print(
        f"throughput within 1.3x of the DB-write baseline: {target}; "
        f"under 300 history events: {events}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.apps, args.concurrency))
    # temporalio/sdk-python#300: skip finalization, which the SDK bridge's threads can abort.
    sys.stdout.flush()
    os._exit(0)
