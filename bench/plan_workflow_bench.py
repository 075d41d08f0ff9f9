"""From `site_survey.completed` to a plan in the status, on the embedded dev server.

    .venv/bin/python bench/plan_workflow_bench.py [--apps N] [--quick]

Starts N Sanmenxia 10 kV applications near the demo grid (readmodel.demo_grid) one after
another, and for each measures, in the same run:
- the baseline: an ordinary event's update round trip (`joint_survey.started`: validated,
  judged, the read model written), as the staff API makes it;
- the plan: from sending `site_survey.completed` until the `status` query shows the plan (the
  update's round trip, then the plan activity: grid snapshot, plan engine, reservation, and
  the workflow task that records it), polled every 2 ms.
Prints p50/p99 of both and the ratio of the medians (the plan's latency in event round trips).
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
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.client import Client, WorkflowHandle  # noqa: E402

from bench.dev_server import start_dev_server  # noqa: E402
from contracts.application import (  # noqa: E402
    ApplicationInput,
    ApplicationOutcome,
    ApplicationProfile,
    Customer,
    RecordEventRequest,
    workflow_id,
)
from core.db import make_engine  # noqa: E402
from core.process import exit_now  # noqa: E402
from domain.start import start_input  # noqa: E402
from domain.views import initial_search_attributes  # noqa: E402
from policies.plans.resources import Location  # noqa: E402
from readmodel import init_db  # noqa: E402
from readmodel.demo_grid import seed_demo_grid  # noqa: E402
from readmodel.demo_org import seed_demo_org  # noqa: E402
from worker import build_worker  # noqa: E402
from workflows.connection_application import ConnectionApplication  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
TQ = "plan-bench"
#: Customers scattered around the middle of the Sanmenxia demo grid.
CENTRE = Location(lon=111.21, lat=34.78)
POLL_S = 0.002


def pct(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] * 1000


def application(i: int) -> ApplicationInput:
    # A deterministic spread of a few kilometres, so plans pick different points.
    dx, dy = ((i * 37) % 41 - 20) * 0.001, ((i * 53) % 29 - 14) * 0.001
    return ApplicationInput(
        application_no=f"PB{i:04d}{uuid.uuid4().hex[:6].upper()}",
        profile=ApplicationProfile(
            unit="henan/sanmenxia",
            business_type="hv",
            voltage="10kV",
            capacity_kva=200,
            accepted_at=datetime.now(TZ) - timedelta(minutes=5),
            location=Location(lon=CENTRE.lon + dx, lat=CENTRE.lat + dy),
        ),
        customer=Customer(name="基准测试客户"),
        customer_manager="cm-001",
    )


async def one(client: Client, i: int) -> tuple[float, float, str]:
    inp = application(i)
    handle: WorkflowHandle[ConnectionApplication, ApplicationOutcome] = await client.start_workflow(
        ConnectionApplication.run,
        start_input(inp),
        id=workflow_id(inp.application_no),
        task_queue=TQ,
        search_attributes=initial_search_attributes(inp),
    )
    t0 = time.perf_counter()
    await handle.execute_update(
        ConnectionApplication.record_event, RecordEventRequest(event="joint_survey.started")
    )
    event_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    await handle.execute_update(
        ConnectionApplication.record_event, RecordEventRequest(event="site_survey.completed")
    )
    while True:
        status = await handle.query(ConnectionApplication.status)
        if status.plan is not None:
            break
        await asyncio.sleep(POLL_S)
    plan_s = time.perf_counter() - t0
    await handle.terminate("benchmark done")
    return event_s, plan_s, status.plan.state


async def main(apps: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = await start_dev_server(tmp)
        engine = make_engine(f"sqlite:///{tmp}/app.db")
        init_db(engine)
        seed_demo_org(engine)
        seed_demo_grid(engine)
        async with env:
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                async with build_worker(env.client, engine, TQ, pool):
                    # Warm-up: imports, the pack's first load, the first connections.
                    await one(env.client, 0)
                    results = [await one(env.client, i) for i in range(1, apps + 1)]
    events = [r[0] for r in results]
    plans = [r[1] for r in results]
    states: dict[str, int] = {}
    for r in results:
        states[r[2]] = states.get(r[2], 0) + 1
    print(f"{apps} applications, one at a time; plan states: {states}")
    print(f"event update round trip (baseline): p50 {pct(events, 50):.1f} ms, "
          f"p99 {pct(events, 99):.1f} ms")  # fmt: skip
    print(f"site_survey.completed -> plan in the status: p50 {pct(plans, 50):.1f} ms, "
          f"p99 {pct(plans, 99):.1f} ms")  # fmt: skip
    ratio = statistics.median(plans) / statistics.median(events)
    print(f"ratio of the medians (plan / event round trip): {ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="5 applications")
    args = parser.parse_args()
    asyncio.run(main(5 if args.quick else args.apps))
    exit_now(0)
