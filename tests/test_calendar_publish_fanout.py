"""Publishing to 1,000 running applications: five changed calendars in a row, each published
twice at once, on a dev server of its own (with a worker and the API).

Before the publisher, every publish started a server-side batch operation, and the server
runs only one at a time: the second publish within a few seconds answered 500. Now each
answer is 2xx (a 409 would be allowed by the contract, but serialising means none occurs),
and every application ends on the newest calendar. Takes a minute or two: select it with
`-k calendar_publish`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import httpx
import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import attach, create_app
from calendars import get_calendar
from contracts import search_attributes
from core.config import Settings
from core.db import make_engine
from readmodel import init_db
from tests.conftest import binary
from tests.publisher_scenarios import calendar_versions, running_applications, start_applications
from tests.support import add_rest_day
from worker import build_worker

APPLICATIONS = 1_000
PUBLISHES = 5


class System:
    def __init__(self, env: WorkflowEnvironment, api: httpx.AsyncClient, task_queue: str) -> None:
        self.env = env
        self.api = api
        self.task_queue = task_queue


@pytest_asyncio.fixture
async def system(tmp_path: Path, calendar_data: Path) -> AsyncIterator[System]:
    """A dev server, worker and API of their own: the 1,000 applications stay out of the
    other tests' way (every publish there would signal them)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL,
        dev_server_database_filename=str(tmp_path / "temporal.db"),
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    init_db(engine)
    settings = Settings(data_dir=tmp_path, temporal_task_queue="fanout")
    app = create_app()
    attach(app, settings, engine, env.client)
    transport = httpx.ASGITransport(app=app)
    try:
        async with env:
            with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
                async with (
                    build_worker(env.client, engine, "fanout", pool, settings),
                    httpx.AsyncClient(transport=transport, base_url="http://test") as api,
                ):
                    yield System(env, api, "fanout")
    finally:
        engine.dispose()


async def test_calendar_publish_reaches_1000_running_applications(
    system: System, calendar_data: Path
) -> None:
    client = system.env.client
    t0 = time.monotonic()
    ids = await start_applications(
        client, system.task_queue, [f"F{i:05d}" for i in range(APPLICATIONS)], concurrency=50
    )
    for _ in range(600):
        if await running_applications(client) == APPLICATIONS:
            break
        await asyncio.sleep(0.1)
    assert await running_applications(client) == APPLICATIONS
    started = time.monotonic() - t0

    statuses: list[int] = []
    versions: list[str] = []
    first_rest_day = date(2026, 3, 2)  # a Monday: the rest days below are ordinary workdays
    for i in range(PUBLISHES):
        add_rest_day(calendar_data, get_calendar("CN").add_workdays(first_rest_day, 2 * i))
        # Two at once, as two operators (or a retrying client) would.
        answers = await asyncio.gather(
            system.api.post("/api/calendars/CN/publish"),
            system.api.post("/api/calendars/CN/publish"),
        )
        statuses += [a.status_code for a in answers]
        ok = [a.json() for a in answers if a.status_code < 300]
        assert ok and len({a["version"] for a in ok}) == 1
        # One of the pair started the publication; the other was told nothing changed.
        assert sorted(a["changed"] for a in ok) == [False, True][-len(ok) :]
        versions.append(ok[0]["version"])
    assert all(s in (200, 202, 409) for s in statuses), statuses
    newest = versions[-1]
    assert len(set(versions)) == PUBLISHES

    t1 = time.monotonic()
    row: dict[str, object] = {}
    for _ in range(3_000):
        row = (await system.api.get("/api/calendars/CN/publication")).json()
        if row.get("version") == newest and row.get("state") == "published":
            break
        await asyncio.sleep(0.1)
    assert row.get("version") == newest and row.get("state") == "published", row
    assert int(str(row["signalled"])) >= APPLICATIONS
    published = time.monotonic() - t1

    on = await calendar_versions(client, ids)
    assert {v for v in on.values() if v != newest} == set()
    again = await system.api.post("/api/calendars/CN/publish")
    assert again.status_code == 200 and again.json()["changed"] is False
    print(
        f"\n{APPLICATIONS} applications started in {started:.1f} s; "
        f"{PUBLISHES} publishes answered {statuses}; "
        f"the newest reached every application in {published:.1f} s "
        f"({row['pages']} pages, {row['signalled']} signals)"
    )
