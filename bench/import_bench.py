"""Go-live import speed: N in-flight applications with their history, imported through the
API into the embedded dev server served by `worker.py` in its own process.

    .venv/bin/python bench/import_bench.py [--n 10000] [--live 300] [--chunk 2000] [--tasks 8]

The mix: the packs' new-service types across every unit, accepted 1 to 180 days ago, each with
a prefix of its stages recorded (and a hold in one of five), so most are overdue. Records a live
run would refuse are dropped before the run (the bench measures imports, not refusals).

Baseline, in the same run: `--live` applications created live (`POST /api/applications`, 48 at
a time) until each has its row in the read model, on the same server and worker. Reported:
imports per second until the last request answered and until every imported application has
its current level in the read model, their ratio to live creation, the time until the worker
is idle again (every imported workflow ran its first task), the worker's CPU time per imported
application, the workflow tasks its deadlock detector failed (a task that waited over 2 s for
the interpreter), and the worker's peak RSS. `--tasks` sets WORKER_MAX_CONCURRENT_WORKFLOW_TASKS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy import Engine, func, select  # noqa: E402
from sqlmodel import col  # noqa: E402

from api.app import attach, create_app  # noqa: E402
from api.imports import ImportRecord, Prepared, prepare  # noqa: E402
from bench.dev_server import compile_workflow_modules, start_dev_server  # noqa: E402
from bench.scale_api import TYPES, UNITS  # noqa: E402
from bench.scale_bench import WorkerProcess  # noqa: E402
from core.config import Settings  # noqa: E402
from core.db import make_engine  # noqa: E402
from core.security import create_token  # noqa: E402
from readmodel import init_db  # noqa: E402
from readmodel.accounts import ensure_superuser  # noqa: E402
from readmodel.applications import ApplicationRow  # noqa: E402
from readmodel.demo_org import seed_demo_org  # noqa: E402

RNG = random.Random(20)
#: The stages tried in order for a record's past; those a type skips are refused and cut.
STAGES = ("site_survey", "plan_reply", "design_review", "completion_inspection", "meter_install")
LIVE_CONCURRENCY = 48


def candidate(no: str, now: datetime) -> dict[str, Any]:
    bt = RNG.choice(list(TYPES))
    voltage, kva = TYPES[bt]
    accepted = now - timedelta(days=RNG.uniform(1, 180))
    t = accepted
    events = []
    for stage in STAGES[: RNG.randint(0, 4)]:
        t += timedelta(days=RNG.uniform(0.5, 6))
        events.append({"event": f"{stage}.started", "at": t.isoformat()})
        t += timedelta(days=RNG.uniform(0.5, 10))
        if t < now:
            events.append({"event": f"{stage}.completed", "at": t.isoformat()})
    holds = []
    if RNG.random() < 0.2:
        start = t + timedelta(hours=2)
        if start < now - timedelta(days=1):
            holds.append(
                {
                    "reason": "客户要求暂缓",
                    "from": start.isoformat(),
                    "to": (start + timedelta(days=1)).isoformat(),
                }
            )
    return {
        "application_no": no,
        "unit": RNG.choice(UNITS),
        "business_type": bt,
        "voltage": voltage,
        "capacity_kva": kva,
        "accepted_at": accepted.isoformat(),
        "customer": {"name": "测试客户", "phone": "13800000000"},
        "customer_manager": "cm-001",
        "source_ref": f"OLD-{no}",
        "events": [e for e in events if e["at"] < now.isoformat()],
        "holds": holds,
    }


def valid(record: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The record, its past cut at the first event a live run would refuse."""
    while True:
        checked = prepare(1, ImportRecord.model_validate(record), now)
        if isinstance(checked, Prepared):
            return record
        record = {**record, "holds": [], "events": record["events"][:-1]}


def mix(n: int, now: datetime) -> list[dict[str, Any]]:
    return [valid(candidate(f"M{uuid.uuid4().hex[:12]}", now), now) for _ in range(n)]


class PeakRss:
    def __init__(self, worker: WorkerProcess) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(worker,), daemon=True)
        self._thread.start()

    def _run(self, worker: WorkerProcess) -> None:
        while not self._stop.wait(0.25):
            self.peak = max(self.peak, worker.rss_mib())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def rows(engine: Engine, prefix: str) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(col(ApplicationRow.application_no).startswith(prefix))
        return int(conn.execute(query).scalar_one())


async def wait_rows(engine: Engine, prefix: str, n: int, t0: float) -> float:
    while rows(engine, prefix) < n:
        await asyncio.sleep(0.2)
    return time.perf_counter() - t0


async def live_baseline(http: httpx.AsyncClient, engine: Engine, n: int) -> float:
    prefix = f"L{uuid.uuid4().hex[:4]}"
    gate = asyncio.Semaphore(LIVE_CONCURRENCY)

    async def one(i: int) -> None:
        body = candidate(f"{prefix}{i:07d}", datetime.now(UTC))
        for key in ("events", "holds", "source_ref"):
            body.pop(key)
        body["accepted_at"] = datetime.now(UTC).isoformat()
        async with gate:
            r = await http.post("/api/applications", json=body)
            r.raise_for_status()

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    return n / await wait_rows(engine, prefix, n, t0)


def deadlocks(log: Path) -> int:
    """Workflow tasks the SDK's deadlock detector failed, from the worker's log."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(
        "Failing workflow task" in line and "TMPRL1101" in line for line in text.splitlines()
    )


async def run(n: int, live: int, chunk: int, tasks: int | None = None) -> dict[str, Any]:
    compile_workflow_modules()
    tmp = Path(tempfile.mkdtemp(prefix="import-bench-"))
    env = await start_dev_server(str(tmp))
    db_url = f"sqlite:///{tmp / 'app.db'}"
    engine = make_engine(db_url)
    init_db(engine)
    seed_demo_org(engine)
    log = tmp / "worker.log"
    extra = {"WORKER_MAX_CONCURRENT_WORKFLOW_TASKS": str(tasks)} if tasks else {}
    worker = WorkerProcess(env.client.service_client.config.target_host, db_url, tmp, log, **extra)
    settings = Settings(data_dir=tmp, jwt_secret=SecretStr(secrets.token_urlsafe(32)))
    app = create_app()
    attach(app, settings, engine, env.client)
    ensure_superuser(engine, "bench-admin", secrets.token_urlsafe(16))
    token = create_token(settings, "bench-admin").access_token
    out: dict[str, Any] = {"n": n, "live": live}
    try:
        async with (
            env,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://bench",
                headers={"Authorization": f"Bearer {token}"},
                timeout=None,
            ) as http,
        ):
            await worker.ready()
            now = datetime.now(UTC)
            records = mix(n, now)
            out["events"] = sum(len(r["events"]) for r in records)
            out["live_per_s"] = await live_baseline(http, engine, live)
            await worker.idle()
            peak = PeakRss(worker)
            cpu0 = worker.cpu_s()
            t0 = time.perf_counter()
            for i in range(0, n, chunk):
                body = "".join(
                    json.dumps(r, ensure_ascii=False) + "\n" for r in records[i : i + chunk]
                )
                r = await http.post("/api/applications/import", content=body.encode())
                r.raise_for_status()
            out["answered_s"] = time.perf_counter() - t0
            out["read_model_s"] = await wait_rows(engine, "M", n, t0)
            out["settled_s"] = out["answered_s"] + await worker.idle()
            out["worker_peak_rss_mib"] = peak.stop()
            out["worker_cpu_ms_per_app"] = (worker.cpu_s() - cpu0) * 1000 / n
    finally:
        worker.stop()
        engine.dispose()
    out["deadlock_failures"] = deadlocks(log)
    out["import_per_s"] = n / max(out["answered_s"], out["read_model_s"])
    out["import_settled_per_s"] = n / out["settled_s"]
    out["ratio_to_live"] = out["import_per_s"] / out["live_per_s"]
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--live", type=int, default=300)
    p.add_argument("--chunk", type=int, default=2000)
    p.add_argument("--tasks", type=int, default=None)
    a = p.parse_args()
    out = asyncio.run(run(a.n, a.live, a.chunk, a.tasks))
    print(json.dumps(out, indent=2))
    print(
        f"import: {out['import_per_s']:.1f}/s to the read model "
        f"({out['import_settled_per_s']:.1f}/s until the worker is idle), "
        f"live creation {out['live_per_s']:.1f}/s in the same run: x{out['ratio_to_live']:.2f}; "
        f"worker peak RSS {out['worker_peak_rss_mib']:.0f} MiB, "
        f"{out['worker_cpu_ms_per_app']:.1f} worker CPU ms per application, "
        f"{out['deadlock_failures']} tasks failed by the deadlock detector"
    )


if __name__ == "__main__":
    main()
