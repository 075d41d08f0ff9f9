"""The webhooks under load on the embedded dev server: every effect exactly once.

    .venv/bin/python bench/webhook_bench.py [--deliveries 1000] [--concurrency 16] [--seed 7]

Sends N signed deliveries through the API (in process, over ASGI) to a real dev server and
worker: 90 % distinct (projects, registrations and permit results, three results for each
(application, kind) with different decision instants) and 10 % redeliveries of earlier ones
(same webhook-id), all shuffled so results arrive out of order and redeliveries may overtake
their first delivery. Then checks that each effect happened once: one stored delivery per
webhook-id, each redelivery answered with its first answer, one ReserveProject per project
and one ProposedRegistration per registration (workflows and read-model rows), and for each
permit (application, kind) the latest decision kept whatever the arrival order.

Prints deliveries/s and answer latency p50/p99, beside a baseline measured in the same run:
the same number of signed deliveries refused at the signature check (401: nothing stored,
nothing started), so the ratio is the cost of storing and handing over.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from sqlmodel import Session, col, func, select  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from api.app import attach, create_app  # noqa: E402
from bench.dev_server import start_dev_server  # noqa: E402
from core.config import Settings  # noqa: E402
from core.db import make_engine  # noqa: E402
from readmodel import init_db  # noqa: E402
from readmodel.integrations import (  # noqa: E402
    DeliveryRow,
    PermitRow,
    RegistrationRow,
    ReserveProjectRow,
)
from scripts.approval_client import (  # noqa: E402
    permit_body,
    prepared,
    project_body,
    registration_body,
)
from worker import build_worker  # noqa: E402

SECRET = "whsec_" + "YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldC1iZW5jaCE="
WRONG = "whsec_" + "bm90LXRoZS1zZWNyZXQtbm90LXRoZS1zZWNyZXQhIQ=="
TQ = "bench-webhooks"
Delivery = tuple[str, dict[str, Any], str]  # kind, body, webhook-id


def plan_deliveries(n: int, rng: random.Random) -> tuple[list[Delivery], dict[Any, str]]:
    """The shuffled deliveries and, per permit (application, kind), the latest result."""
    distinct = n - n // 10
    out: list[Delivery] = []
    latest: dict[Any, str] = {}
    t0 = datetime.now(UTC) - timedelta(hours=1)
    while len(out) < distinct:
        k = len(out) % 5
        if k in (0, 1):
            out.append(("project", project_body(), f"msg_{uuid.uuid4().hex}"))
        elif k in (2, 3):
            out.append(("registration", registration_body(), f"msg_{uuid.uuid4().hex}"))
        else:
            app = f"BENCH-{uuid.uuid4().hex[:10]}"
            for i in range(min(3, distinct - len(out))):
                result = rng.choice(["approved", "rejected"])
                at = (t0 + timedelta(minutes=i)).isoformat()
                body = permit_body(app, kind="greenery", result=result, decided_at=at)
                out.append(("permit", body, f"msg_{uuid.uuid4().hex}"))
                latest[(app, "greenery")] = result
    out += rng.sample(out, n - distinct)
    rng.shuffle(out)
    return out, latest


async def send_all(
    c: httpx.AsyncClient, todo: list[Delivery], secret: str, concurrency: int
) -> tuple[list[float], dict[str, list[Any]]]:
    latencies: list[float] = []
    answers: dict[str, list[Any]] = {}
    gate = asyncio.Semaphore(concurrency)

    async def one(kind: str, body: dict[str, Any], msg_id: str) -> None:
        async with gate:
            path, raw, headers = prepared(kind, body, secret, msg_id)
            t = time.perf_counter()
            r = await c.post(path, content=raw, headers=headers)
            latencies.append(time.perf_counter() - t)
            answers.setdefault(msg_id, []).append((r.status_code, r.json()))

    await asyncio.gather(*(one(*d) for d in todo))
    return latencies, answers


def count(engine: Engine, model: Any, *where: Any) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model).where(*where)).one())


async def settle(engine: Engine, projects: int, registrations: int, permits: int) -> float:
    """Seconds until every effect is in the read model."""
    t = time.perf_counter()
    while True:
        done = (
            count(engine, ReserveProjectRow) >= projects
            and count(engine, RegistrationRow) >= registrations
            and count(
                engine,
                DeliveryRow,
                col(DeliveryRow.kind) == "permit",
                col(DeliveryRow.effect).is_not(None),
            )
            >= permits
        )
        if done:
            return time.perf_counter() - t
        if time.perf_counter() - t > 600:
            raise SystemExit("effects did not settle in 10 minutes")
        await asyncio.sleep(0.2)


def check(
    engine: Engine,
    todo: list[Delivery],
    answers: dict[str, list[Any]],
    latest: dict[Any, str],
) -> list[str]:
    problems: list[str] = []
    unique = {m: (k, b) for k, b, m in todo}
    if count(engine, DeliveryRow) != len(unique):
        problems.append(f"{count(engine, DeliveryRow)} deliveries stored for {len(unique)} ids")
    for msg_id, got in answers.items():
        if len({repr(a) for a in got}) != 1 or got[0][0] != 202:
            problems.append(f"{msg_id}: answers differ or not 202: {got}")
    if count(engine, DeliveryRow, col(DeliveryRow.status) != "accepted"):
        problems.append("deliveries not accepted")
    projects = {b["id"] for k, b in unique.values() if k == "project"}
    regs = {b["registration_no"] for k, b in unique.values() if k == "registration"}
    if count(engine, ReserveProjectRow) != len(projects):
        problems.append("reserve projects not one per project")
    if count(engine, RegistrationRow) != len(regs):
        problems.append("registrations not one per registration")
    with Session(engine) as s:
        for (app, kind), result in latest.items():
            row = s.get(PermitRow, (app, kind))
            if row is None or row.result != result:
                problems.append(f"permit {app} {kind}: kept {row and row.result}, latest {result}")
    return problems


async def workflows_of(env: WorkflowEnvironment, kind: str) -> int:
    return len([w async for w in env.client.list_workflows(f"WorkflowType = '{kind}'")])


async def main(n: int, concurrency: int, seed: int) -> int:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        env = await start_dev_server(tmp)
        engine = make_engine(f"sqlite:///{tmp}/app.db")
        init_db(engine)
        settings = Settings(
            data_dir=Path(tmp),
            temporal_task_queue=TQ,
            approval_webhook_secret=SecretStr(SECRET),
            registration_webhook_secret=SecretStr(SECRET),
        )
        app = create_app()
        attach(app, settings, engine, env.client)
        todo, latest = plan_deliveries(n, rng)
        async with (
            env,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c,
        ):
            t = time.perf_counter()
            base_lat, _ = await send_all(c, todo, WRONG, concurrency)
            base_s = time.perf_counter() - t
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                async with build_worker(env.client, engine, TQ, pool, settings):
                    t = time.perf_counter()
                    lat, answers = await send_all(c, todo, SECRET, concurrency)
                    answer_s = time.perf_counter() - t
                    unique = {m: (k, b) for k, b, m in todo}
                    kinds = [k for k, _ in unique.values()]
                    settle_s = await settle(
                        engine,
                        kinds.count("project"),
                        kinds.count("registration"),
                        kinds.count("permit"),
                    )
                    problems = check(engine, todo, answers, latest)
                    await asyncio.sleep(2)  # visibility lags
                    reserve = await workflows_of(env, "ReserveProject")
                    if reserve != kinds.count("project"):
                        problems.append(f"{reserve} ReserveProject workflows")
    redelivered = n - len(unique)
    print(f"deliveries: {n} ({redelivered} redelivered, shuffled), concurrency {concurrency}")
    print(
        f"baseline, refused at the signature: {n / base_s:8.1f} deliveries/s, "
        f"p50 {statistics.median(base_lat) * 1000:.1f} ms"
    )
    print(
        f"stored and handed to Temporal:      {n / answer_s:8.1f} deliveries/s, "
        f"p50 {statistics.median(lat) * 1000:.1f} ms, "
        f"p99 {statistics.quantiles(lat, n=100)[98] * 1000:.1f} ms"
    )
    print(f"throughput vs baseline: {(n / answer_s) / (n / base_s):.2f}x")
    print(f"every effect in the read model {settle_s:.1f} s after the last answer")
    if problems:
        print("NOT exactly once:")
        for p in problems[:20]:
            print("  " + p)
        return 1
    print(
        "exactly once: every delivery stored once, redeliveries answered alike, one workflow "
        "per project and registration, the latest permit result kept"
    )
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--deliveries", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    sys.exit(asyncio.run(main(args.deliveries, args.concurrency, args.seed)))
