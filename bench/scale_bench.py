"""A province's scale: N open applications on the embedded dev server, a worker process, and
the API over a read model of many rows.

    .venv/bin/python bench/scale_bench.py [--n 20000] [--due 1000] [--rows 100000]
                                          [--part scale|api|all] [--no-postgres]

Scale part: N applications (the packs' new-service types across every unit, accepted over the
past 30 working days, so many are overdue and raise warnings at start) are started against a
dev server (SQLite, WAL) served by `worker.py` in its own process (the worker `make run`
starts). Measured: start rate; the worker's RSS and CPU, empty (the baseline), idle with N
open, and while `--due` thresholds fall due within one minute; the warning latency of those
(raised instant minus due instant, from the read model: what `grid_warning_latency_seconds`
observes) p50/p99/max; a calendar published to all N (through the region's CalendarPublisher,
page by page, as the API's publish route asks for it) until the publisher records it published
and the worker is idle again.

API part (bench/scale_api.py): `--rows` applications (with a timeline entry and a warning each)
written to SQLite and to PostgreSQL (Debian's server, as the tests start it; skipped where it is
missing), then the filtered list, a closed application's detail and the warning board, each
timed in process (ASGI) and compared with the same requests over 1,000 rows in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import Engine, func, select  # noqa: E402
from temporalio.client import Client  # noqa: E402
from temporalio.common import WorkflowIDReusePolicy  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from bench.scale_api import TYPES, UNITS, api_part, pct, report_api  # noqa: E402
from calendars import Calendar, get_calendar  # noqa: E402
from contracts import search_attributes  # noqa: E402
from contracts.application import (  # noqa: E402
    ApplicationInput,
    ApplicationProfile,
    ApplicationStart,
    Customer,
    workflow_id,
)
from contracts.calendar_publication import PublishRequest  # noqa: E402
from core.db import make_engine  # noqa: E402
from domain.start import initial_status, start_input  # noqa: E402
from domain.views import initial_search_attributes  # noqa: E402
from readmodel import init_db  # noqa: E402
from readmodel.applications import ApplicationRow, WarningRow  # noqa: E402
from readmodel.calendar_publication import get_publication  # noqa: E402
from readmodel.demo_org import seed_demo_org  # noqa: E402
from workflows.calendar_publisher import request_publication  # noqa: E402
from workflows.connection_application import ConnectionApplication  # noqa: E402

BIN = Path(sys.executable).parent
TASK_QUEUE = "grid-connection"
START_CONCURRENCY = 64
RNG = random.Random(19)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the worker process --------------------------------------------------------------------------


class WorkerProcess:
    def __init__(
        self, address: str, db_url: str, data: Path, log: Path | None = None, **env_extra: str
    ) -> None:
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": address,
            "DATABASE_URL": db_url,
            "DATA_DIR": str(data),
            "WORKER_METRICS_PORT": str(free_port()),
            "TEMPORAL_METRICS_PORT": "0",
            "LOG_LEVEL": "WARNING",
            **env_extra,
        }
        out = log.open("ab") if log is not None else None
        self.proc = subprocess.Popen(
            [sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
        self.metrics = f"http://127.0.0.1:{env['WORKER_METRICS_PORT']}/metrics"
        self._cpu = (time.monotonic(), self.cpu_s())

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def cpu_share(self) -> float:
        """CPU seconds per second since the last call."""
        now, cpu = time.monotonic(), self.cpu_s()
        then, before = self._cpu
        self._cpu = (now, cpu)
        return (cpu - before) / max(now - then, 1e-6)

    async def ready(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(self.metrics, timeout=2)
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.5)
        raise RuntimeError("the worker did not come up")

    async def idle(self, below: float = 0.03, quiet_s: float = 3.0, limit_s: float = 1800) -> float:
        """Seconds until the worker's CPU stays below `below` for `quiet_s`."""
        start = time.monotonic()
        self.cpu_share()
        quiet = 0.0
        while quiet < quiet_s and time.monotonic() - start < limit_s:
            await asyncio.sleep(1.0)
            quiet = quiet + 1.0 if self.cpu_share() < below else 0.0
        return time.monotonic() - start - quiet

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# -- starting applications -----------------------------------------------------------------------


def application(no: str, accepted_at: datetime, business_type: str, unit: str) -> ApplicationStart:
    voltage, kva = TYPES[business_type]
    return start_input(
        ApplicationInput(
            application_no=no,
            profile=ApplicationProfile(
                unit=unit,
                business_type=business_type,
                voltage=voltage,
                capacity_kva=kva,
                accepted_at=accepted_at,
            ),
            customer=Customer(name="测试客户", phone="13800000000"),
            customer_manager="cm-001",
        )
    )


async def start_all(client: Client, starts: list[ApplicationStart]) -> float:
    gate = asyncio.Semaphore(START_CONCURRENCY)

    async def one(start: ApplicationStart) -> None:
        inp = start.application
        async with gate:
            await client.start_workflow(
                ConnectionApplication.run,
                start,
                id=workflow_id(inp.application_no),
                task_queue=TASK_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=initial_search_attributes(inp),
            )

    t0 = time.perf_counter()
    await asyncio.gather(*(one(s) for s in starts))
    return time.perf_counter() - t0


def open_mix(n: int, now: datetime) -> list[ApplicationStart]:
    """Accepted over the past 30 working days (42 calendar days), types and units mixed."""
    out = []
    for _ in range(n):
        accepted = now - timedelta(seconds=RNG.uniform(60, 42 * 86400))
        bt = RNG.choice(list(TYPES))
        unit = RNG.choice(UNITS)
        out.append(application(f"S{uuid.uuid4().hex[:12]}", accepted, bt, unit))
    return out


def first_due(bt: str, unit: str, accepted: datetime) -> datetime | None:
    status = initial_status(application("probe-000", accepted, bt, unit), accepted)
    return status.next_due_at


def accepted_for(bt: str, unit: str, target: datetime, now: datetime) -> datetime | None:
    """The acceptance instant whose first threshold falls at `target` (bisection: evaluated at
    its own acceptance, the earliest threshold moves with the acceptance)."""
    lo, hi = now - timedelta(days=60), now
    due_hi = first_due(bt, unit, hi)
    if due_hi is None or due_hi < target:
        return None
    for _ in range(40):
        mid = lo + (hi - lo) / 2
        due = first_due(bt, unit, mid)
        if due is not None and due >= target:
            hi = mid
        else:
            lo = mid
    due = first_due(bt, unit, hi)
    return hi if due is not None and abs((due - target).total_seconds()) < 1 else None


def falling_due(m: int, window_start: datetime, now: datetime) -> list[ApplicationStart]:
    """`m` applications whose first threshold falls within the minute after `window_start`."""
    anchors: dict[tuple[str, str], datetime] = {}
    for bt in TYPES:
        for unit in UNITS:
            a = accepted_for(bt, unit, window_start, now)
            if a is not None and a + timedelta(seconds=60) < now:
                anchors[(bt, unit)] = a
    if not anchors:
        return []
    keys = sorted(anchors)
    out = []
    for i in range(m):
        bt, unit = keys[i % len(keys)]
        offset = timedelta(seconds=60 * i / m)
        out.append(application(f"D{uuid.uuid4().hex[:12]}", anchors[(bt, unit)] + offset, bt, unit))
    return out


def count(engine: Engine, table: Any, *where: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


async def wait_rows(engine: Engine, n: int, limit_s: float = 3600) -> float:
    t0 = time.perf_counter()
    table = ApplicationRow.__table__  # type: ignore[attr-defined]
    while count(engine, table) < n and time.perf_counter() - t0 < limit_s:
        await asyncio.sleep(1.0)
    return time.perf_counter() - t0


# -- calendar publishing -------------------------------------------------------------------------


def amended_calendar() -> Calendar:
    """CN with one more rest day three weeks ahead: every pending deadline after it moves."""
    real = get_calendar("CN")
    extra = date.today() + timedelta(days=21)
    while extra.weekday() >= 5:
        extra += timedelta(days=1)
    return Calendar(
        region="CN",
        version=f"{real.version}+bench{uuid.uuid4().hex[:6]}",
        published_years=real.published_years,
        holidays=sorted({*real.holidays(), extra}),
        makeup_workdays=list(real.makeup_workdays()),
    )


async def publish(client: Client, engine: Engine, limit_s: float = 3600) -> tuple[float, int]:
    """As the API's publish route: the region's CalendarPublisher is asked for the calendar
    and signals the running applications page by page; seconds until it records the version
    published, and how many applications it signalled."""
    snapshot = amended_calendar().snapshot()
    t0 = time.perf_counter()
    await request_publication(
        client, TASK_QUEUE, PublishRequest(snapshot=snapshot, requested_at=datetime.now(UTC))
    )
    while time.perf_counter() - t0 < limit_s:
        row = get_publication(engine, snapshot.region)
        if row is not None and row.state == "published" and row.version == snapshot.version:
            return time.perf_counter() - t0, row.signalled
        await asyncio.sleep(0.5)
    raise RuntimeError(f"the calendar was not published within {limit_s:.0f} s")


# -- the scale part ------------------------------------------------------------------------------


async def scale(n: int, due: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    out: dict[str, Any] = {"n": n, "due": due}
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL,
        dev_server_database_filename=str(tmp / "temporal.db"),
        dev_server_extra_args=[
            "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
        ],
    )  # fmt: skip
    db_url = f"sqlite:///{tmp / 'app.db'}"
    engine = make_engine(db_url)
    init_db(engine)
    seed_demo_org(engine)
    worker = WorkerProcess(env.client.service_client.config.target_host, db_url, tmp)
    try:
        async with env:
            await worker.ready()
            await worker.idle()
            out["rss_empty_mib"] = worker.rss_mib()
            now = datetime.now(UTC)
            starts = open_mix(n, now)
            out["start_s"] = await start_all(env.client, starts)
            out["projected_s"] = await wait_rows(engine, n)
            out["settle_s"] = await worker.idle()
            out["rss_idle_mib"] = worker.rss_mib()
            out["warnings_at_start"] = count(engine, WarningRow.__table__)  # type: ignore[attr-defined]
            await firing(env.client, engine, worker, due, out)
            t0 = time.perf_counter()
            out["publish_done_s"], out["publish_signalled"] = await publish(env.client, engine)
            await worker.idle()
            out["publish_replanned_s"] = time.perf_counter() - t0
            out["rss_after_publish_mib"] = worker.rss_mib()
    finally:
        worker.stop()
        engine.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


async def firing(
    client: Client, engine: Engine, worker: WorkerProcess, due: int, out: dict[str, Any]
) -> None:
    if due == 0:
        out["due_note"] = "no due window (--due 0)"
        return
    now = datetime.now(UTC)
    window = now + timedelta(seconds=90)
    t0 = time.perf_counter()
    starts = falling_due(due, window, now)
    out["due_placed"] = len(starts)
    out["due_placing_s"] = time.perf_counter() - t0
    if not starts:
        out["due_note"] = "no threshold can fall due now (a non-working day?)"
        return
    out["due_start_s"] = await start_all(client, starts)
    if datetime.now(UTC) > window:
        out["due_note"] = "placing and starting them took longer than the 90 s before the window"
    nos = [s.application.application_no for s in starts]
    rss, cpu = [], []
    worker.cpu_share()
    while datetime.now(UTC) < window + timedelta(seconds=75):
        await asyncio.sleep(1.0)
        rss.append(worker.rss_mib())
        cpu.append(worker.cpu_share())
    out["rss_firing_max_mib"] = max(rss)
    out["cpu_firing_mean"] = statistics.fmean(cpu)
    w = WarningRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            select(w.c.raised_at, w.c.due_at).where(
                w.c.application_no.in_(nos), w.c.due_at >= window
            )
        ).all()
    late = [(r - d).total_seconds() for r, d in rows]
    out["warnings_fired"] = len(late)
    out["latency_p50_s"], out["latency_p99_s"] = pct(late, 0.5), pct(late, 0.99)
    out["latency_max_s"] = max(late) if late else float("nan")


def report_scale(s: dict[str, Any]) -> None:
    n = s["n"]
    print(f"\n== {n} open applications (worker in its own process)")
    print(f"started in {s['start_s']:.1f} s ({n / s['start_s']:.0f}/s); all projected after "
          f"{s['projected_s']:.1f} s; worker idle {s['settle_s']:.1f} s later; "
          f"{s['warnings_at_start']} warnings raised")  # fmt: skip
    per = (s["rss_idle_mib"] - s["rss_empty_mib"]) * 1024 / n
    print(f"worker RSS: empty {s['rss_empty_mib']:.0f} MiB, idle with N open "
          f"{s['rss_idle_mib']:.0f} MiB ({s['rss_idle_mib'] / s['rss_empty_mib']:.2f}x; "
          f"{per:.1f} KiB per application)")  # fmt: skip
    if s.get("due_placed"):
        print(f"{s['due_placed']} thresholds due within one minute: {s['warnings_fired']} warnings;"
              f" latency p50 {s['latency_p50_s']:.2f} s, p99 {s['latency_p99_s']:.2f} s, "
              f"max {s['latency_max_s']:.2f} s; RSS max {s['rss_firing_max_mib']:.0f} MiB, "
              f"CPU {s['cpu_firing_mean']:.2f} cores")  # fmt: skip
    else:
        print(s.get("due_note", "no due window"))
    # Signals, not applications: the catch-up signals again those started just before.
    print(f"calendar published to {s['n']} in {s['publish_signalled']} signals (page by page): "
          f"recorded published after {s['publish_done_s']:.1f} s, worker idle after "
          f"{s['publish_replanned_s']:.1f} s; "
          f"RSS {s['rss_after_publish_mib']:.0f} MiB")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="open applications")
    parser.add_argument("--due", type=int, default=1_000, help="thresholds due in one minute")
    parser.add_argument("--rows", type=int, default=100_000, help="read-model rows (API part)")
    parser.add_argument("--repeat", type=int, default=200, help="requests per API case")
    parser.add_argument("--part", choices=["scale", "api", "all"], default="all")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if args.part in ("api", "all"):
        report_api(await api_part(args.rows, args.repeat, not args.no_postgres), args.rows)
    if args.part in ("scale", "all"):
        report_scale(await scale(args.n, args.due))


if __name__ == "__main__":
    asyncio.run(main())
