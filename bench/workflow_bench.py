"""ConnectionApplication against the embedded dev server, beside a minimal baseline.

    .venv/bin/python bench/workflow_bench.py [--apps N] [--concurrency C] [--rounds R]

Runs N complete Henan 10 kV lifecycles (23 events each, time compressed: recorded as they
happen, in quick succession; --backdated stamps them across 30 past working days instead, so
every monitor is overdue while it runs and the warning path is exercised) and the same number of
baseline workflows with the same updates and local activities -- once with no-op activities,
once with activities that make one upsert each, as the projection does -- in one process on one
dev server (SQLite file, WAL), alternating round by round. A third reference,
RequiredWorkApplication, adds to the DB-write baseline the Temporal work required of
every change (search attributes upserted and the deadline timer re-planned where
ConnectionApplication does it for a live lifecycle, payloads of its sizes) without the domain:
the ratio to it is the domain's own cost. Prints applications/s, worker CPU per
application, record_event latency p50/p99, history events per application, worker memory, and
the ratios. Targets: within 1.3x of the baseline's throughput; under 300 history events for a
complete lifecycle.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402
from temporalio import activity  # noqa: E402
from temporalio.client import Client, WorkflowHandle  # noqa: E402
from temporalio.worker import Worker  # noqa: E402

from bench.baseline_workflow import (  # noqa: E402
    BaselineApplication,
    RequiredWorkApplication,
    RequiredWorkStart,
    baseline_write,
)
from bench.dev_server import compile_workflow_modules, start_dev_server  # noqa: E402
from calendars import get_calendar  # noqa: E402
from contracts.application import (  # noqa: E402
    ApplicationInput,
    ApplicationProfile,
    Customer,
    RecordEventRequest,
    workflow_id,
)
from core.db import make_engine  # noqa: E402
from core.gc_tuning import tune_gc  # noqa: E402
from core.process import exit_now  # noqa: E402
from domain.answers import brief  # noqa: E402
from domain.ledger import ApplicationLedger  # noqa: E402
from domain.rules import check_event  # noqa: E402
from domain.start import start_input  # noqa: E402
from domain.views import (  # noqa: E402
    initial_search_attributes,
    projection_input,
    row,
)
from readmodel import init_db  # noqa: E402
from readmodel.demo_org import seed_demo_org  # noqa: E402
from worker import build_worker  # noqa: E402
from workflows.connection_application import ConnectionApplication  # noqa: E402

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


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


BACKDATED = False


def application_input(no: str, accepted: datetime) -> ApplicationInput:
    return ApplicationInput(
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


async def real_lifecycle(client: Client, tq: str, latencies: list[float]) -> str:
    """One lifecycle. By default "live": accepted now, every event recorded as it happens, in
    quick succession (no limit passes; the too-short checks do fire). With --backdated:
    accepted 30 working days ago and events stamped across that span, so every running monitor
    is overdue while it runs (about 33 warnings to ~260 recipients per application)."""
    now = datetime.now(TZ).replace(microsecond=0)
    accepted = get_calendar("CN").add_work_time(now, -timedelta(days=30)) if BACKDATED else now
    no = f"B{uuid.uuid4().hex[:12].upper()}"
    inp = application_input(no, accepted)
    handle = await client.start_workflow(
        ConnectionApplication.run,
        start_input(inp),
        id=workflow_id(no),
        task_queue=tq,
        search_attributes=initial_search_attributes(inp),
    )
    step = (now - accepted) / (len(EVENTS) + 1)
    requests = [
        RecordEventRequest(event=event, at=accepted + i * step if BACKDATED else None)
        for i, event in enumerate(EVENTS, start=1)
    ]
    return await record_all(handle, ConnectionApplication.record_event, requests, latencies)


async def record_all(
    handle: WorkflowHandle[Any, Any], update: Any, args: list[Any], latencies: list[float]
) -> str:
    """Send the lifecycle's updates one after the other, timing each, then await the end."""
    for arg in args:
        t = time.perf_counter()
        await handle.execute_update(update, arg)
        latencies.append(time.perf_counter() - t)
    await handle.result()
    return handle.id


async def baseline_lifecycle(client: Client, tq: str, latencies: list[float]) -> str:
    handle = await client.start_workflow(
        BaselineApplication.run, len(EVENTS), id=f"base-{uuid.uuid4()}", task_queue=tq
    )
    return await record_all(handle, BaselineApplication.record, EVENTS, latencies)


def required_work_start() -> RequiredWorkStart:
    """What a live lifecycle makes ConnectionApplication do at each change, worked out with the
    domain (pure, outside Temporal): whether the row changed (so the search
    attributes are upserted), whether the earliest due instant moved (so the timer is
    re-planned), and the sizes of each change's write and of each update's answer."""
    now = datetime.now(TZ).replace(microsecond=0)
    start = start_input(application_input("BPLAN0000000", now))
    book = ApplicationLedger(start, now)
    plan: list[tuple[bool, bool]] = []
    writes: list[int] = []
    answers: list[int] = []
    shown, due = None, None
    written = 0
    for i, event in enumerate(["", *EVENTS]):
        t = now + timedelta(seconds=i)
        recorded = None
        if event:
            recorded = check_event(book, RecordEventRequest(event=event), t)
            book.add_event(recorded)
        ev, _ = book.sync(t)
        if event:
            answers.append(len(brief(book, ev, recorded).model_dump_json()))
        current = row(book, ev)
        new_due = ev.next_due_at if book.state == "running" else due
        plan.append((current != shown, new_due != due))
        shown, due = current, new_due
        entries = book.timeline[written:]
        writes.append(
            len(projection_input(book, current, t, written, entries, []).model_dump_json())
        )
        written += len(entries)
    return RequiredWorkStart(
        plan=plan,
        start_payload=start.model_dump_json(),
        write_sizes=writes,
        answer_sizes=answers,
    )


async def required_work_lifecycle(
    client: Client, tq: str, start: RequiredWorkStart, latencies: list[float]
) -> str:
    handle = await client.start_workflow(
        RequiredWorkApplication.run, start, id=f"req-{uuid.uuid4()}", task_queue=tq
    )
    return await record_all(handle, RequiredWorkApplication.record, EVENTS, latencies)


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
    ids = await asyncio.gather(*(guarded() for _ in range(n)))
    return time.perf_counter() - t, list(ids)


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] * 1000 if len(values) > 1 else 0.0


class BaselineDbWrite:
    """The same activity doing what a projection does at minimum: one upsert, one commit."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        with engine.begin() as conn:
            conn.execute(
                text("CREATE TABLE IF NOT EXISTS baseline_row (id TEXT PRIMARY KEY, n INTEGER)")
            )

    @activity.defn(name="baseline_write")
    def write(self, n: int) -> int:
        with self._engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO baseline_row (id, n) VALUES (:id, :n) "
                    "ON CONFLICT (id) DO UPDATE SET n = excluded.n"
                ),
                {"id": activity.info().workflow_id, "n": n},
            )
        return n

    @activity.defn(name="baseline_write_blob")
    def write_blob(self, blob: str) -> int:
        return self.write(len(blob))


class Contender:
    """One kind of workflow under test: its worker, its lifecycle, and what it measured."""

    def __init__(
        self,
        label: str,
        worker: Callable[[], Worker],
        one: Callable[[list[float]], Callable[[], Awaitable[str]]],
    ) -> None:
        self.label = label
        self.worker = worker
        self.one = one
        self.rates: list[float] = []
        self.cpu_ms: list[float] = []
        self.latencies: list[float] = []
        self.ids: list[str] = []

    async def round(self, apps: int, concurrency: int) -> None:
        async with self.worker():
            await run_many(2, 2, self.one([]))  # warm the worker's caches
            cpu = time.process_time()
            secs, ids = await run_many(apps, concurrency, self.one(self.latencies))
            self.cpu_ms.append((time.process_time() - cpu) / apps * 1000)
        self.rates.append(apps / secs)
        self.ids = ids


def contenders_for(
    client: Client, engine: Engine, pool: concurrent.futures.ThreadPoolExecutor
) -> list[Contender]:
    """The three baselines, then ConnectionApplication (last: the ratios are taken to it)."""

    def baseline_worker(tq: str, act: Callable[[int], int]) -> Callable[[], Worker]:
        return lambda: Worker(
            client,
            task_queue=tq,
            workflows=[BaselineApplication],
            activities=[act],
            activity_executor=pool,
        )

    db_write = BaselineDbWrite(engine)
    required = required_work_start()
    return [
        Contender(
            "baseline, no-op activities",
            baseline_worker("b-noop", baseline_write),
            lambda lat: baseline(client, "b-noop", lat),
        ),
        Contender(
            "baseline, DB-write activities",
            baseline_worker("b-db", db_write.write),
            lambda lat: baseline(client, "b-db", lat),
        ),
        Contender(
            "baseline + required Temporal work",
            lambda: Worker(
                client,
                task_queue="b-req",
                workflows=[RequiredWorkApplication],
                activities=[db_write.write_blob],
                activity_executor=pool,
            ),
            lambda lat: lambda: required_work_lifecycle(client, "b-req", required, lat),
        ),
        Contender(
            "ConnectionApplication",
            lambda: build_worker(client, engine, "bench", pool),
            lambda lat: lambda: real_lifecycle(client, "bench", lat),
        ),
    ]


@dataclass(frozen=True)
class Measured:
    """What a run measured beside each contender's own figures."""

    rss0: float
    rss1: float
    histories: list[int]


async def measure(apps: int, concurrency: int, rounds: int) -> tuple[list[Contender], Measured]:
    compile_workflow_modules()
    with tempfile.TemporaryDirectory() as tmp:
        env = await start_dev_server(tmp)
        engine = make_engine(f"sqlite:///{tmp}/app.db")
        init_db(engine)
        # The demo organisation, as `make run` has it: warnings resolve to staff and outbox
        # rows, the normal path, rather than to undeliverable roles.
        seed_demo_org(engine)
        async with env:
            client = env.client
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                contenders = contenders_for(client, engine, pool)
                # As worker.py does once started; every contender shares the process.
                tune_gc()
                rss0 = rss_mib()
                # Alternate the contenders round by round: background load and the server's
                # growing database then weigh on all of them alike.
                for _ in range(rounds):
                    for c in contenders:
                        await c.round(apps, concurrency)
                rss1 = rss_mib()
                histories = [
                    len((await client.get_workflow_handle(c.ids[0]).fetch_history()).events)
                    for c in contenders
                ]
    return contenders, Measured(rss0, rss1, histories)


def ratio(c: Contender, real: Contender) -> float:
    """Median of the rounds' ratios: each round ran every contender back to back, so a
    slow stretch of the machine weighs on both sides of a round's ratio alike."""
    return statistics.median(a / b for a, b in zip(c.rates, real.rates, strict=True))


def print_table(
    contenders: list[Contender], measured: Measured, apps: int, concurrency: int, rounds: int
) -> None:
    real = contenders[-1]
    print(
        f"{rounds} rounds of {apps} lifecycles ({len(EVENTS)} events each, "
        f"{concurrency} at a time); medians"
    )
    head = f"{'apps/s':>8}{'ratio':>7}{'CPU ms/app':>12}{'p50 ms':>8}{'p99 ms':>8}{'history':>9}"
    print(f"{'':32}{head}")
    for c, events in zip(contenders, measured.histories, strict=True):
        print(
            f"{c.label:32}{statistics.median(c.rates):>8.2f}{ratio(c, real):>7.2f}"
            f"{statistics.median(c.cpu_ms):>12.0f}"
            f"{pct(c.latencies, 50):>8.1f}{pct(c.latencies, 99):>8.1f}{events:>9}"
        )
    rss0, rss1 = measured.rss0, measured.rss1
    print(f"worker process RSS: {rss1:.0f} MiB (+{rss1 - rss0:.0f} MiB over the run)")
    print(f"lifecycles: {'backdated (every monitor overdue)' if BACKDATED else 'live'}")


def print_ratios(contenders: list[Contender], measured: Measured) -> None:
    real = contenders[-1]
    for c in contenders[:-1]:
        rounds_ = ", ".join(f"{a / b:.2f}" for a, b in zip(c.rates, real.rates, strict=True))
        print(f"ratio per round vs {c.label}: {rounds_}")
    noop, reference = contenders[0], contenders[2]
    floor = statistics.median(a / b for a, b in zip(noop.rates, reference.rates, strict=True))
    print(
        f"throughput vs baseline: {ratio(noop, real):.2f}x (no-op activities), "
        f"{ratio(contenders[1], real):.2f}x (DB-write activities); target 1.3x. "
        f"History {measured.histories[-1]} events (target < 300)."
    )
    print(
        f"the required Temporal work alone (search attributes, timer re-plans, payload sizes, "
        f"one upsert per change) runs at {floor:.2f}x the no-op baseline; "
        f"ConnectionApplication at {ratio(reference, real):.2f}x that."
    )


async def main(apps: int, concurrency: int, rounds: int) -> None:
    contenders, measured = await measure(apps, concurrency, rounds)
    print_table(contenders, measured, apps, concurrency, rounds)
    print_ratios(contenders, measured)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--backdated", action="store_true", help="every monitor overdue: the warning path's cost"
    )
    args = parser.parse_args()
    BACKDATED = args.backdated
    asyncio.run(main(args.apps, args.concurrency, args.rounds))
    exit_now(0)
