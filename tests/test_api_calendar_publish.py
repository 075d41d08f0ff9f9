"""Publishing calendar data reaches running applications (DESIGN.md §3), through the API."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from api.app import attach, create_app
from calendars import get_calendar
from core.config import Settings
from tests.support import add_rest_day, new_application_no, problem

TZ = ZoneInfo("Asia/Shanghai")


def plan_reply_due(status: Any) -> datetime:
    """The plan reply monitor's next due instant in an application's status (or its answer)."""
    body = status.json() if hasattr(status, "json") else status
    [due] = [m["next_due_at"] for m in body["monitors"] if m["code"] == "plan_reply"]
    return datetime.fromisoformat(due)


async def test_publish_moves_pending_deadlines_of_running_applications(
    api: httpx.AsyncClient, calendar_data: Path
) -> None:
    no = new_application_no()
    r = await api.post(
        "/api/applications",
        json={
            "application_no": no,
            "unit": "henan/sanmenxia",
            "business_type": "hv",
            "voltage": "10kV",
            "customer": {"name": "测试客户"},
        },
    )
    assert r.status_code == 201
    # The plan reply's next instant (the application's own next one may be its joint survey
    # notice's, issued at acceptance in the background).
    before = plan_reply_due(await api.get(f"/api/applications/{no}"))
    old = get_calendar("CN")
    rest_day = old.add_workdays(datetime.now(TZ).date(), 3)
    assert rest_day < before.date()
    add_rest_day(calendar_data, rest_day)

    r = await api.post("/api/calendars/CN/publish")
    assert r.status_code == 202, r.text
    published = r.json()
    assert published["version"] != old.version
    assert published["changed"] is True

    for _ in range(100):
        status = (await api.get(f"/api/applications/{no}")).json()
        if status["calendar"]["version"] == published["version"]:
            break
        await asyncio.sleep(0.1)
    assert status["calendar"]["versions"] == [old.version, published["version"]]
    after = plan_reply_due(status)
    new = get_calendar("CN")
    assert not new.is_workday(rest_day)
    # One working day was taken out of the remainder: the instant moves by one working day.
    assert new.work_time_between(before, after) == timedelta(days=1)
    assert any(e["event"] == "calendar.updated" for e in status["timeline"])
    # The publication finishes (its catch-up pass included), so it signals no application
    # of the tests that follow.
    for _ in range(600):
        row = (await api.get("/api/calendars/CN/publication")).json()
        if (row["version"], row["state"]) == (published["version"], "published"):
            break
        await asyncio.sleep(0.1)
    assert (row["version"], row["state"]) == (published["version"], "published")


async def test_bad_calendar_data_is_refused_before_anything_is_sent(
    api: httpx.AsyncClient, calendar_data: Path
) -> None:
    year = datetime.now(TZ).year
    path = calendar_data / "CN" / f"{year}.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[[holidays]]\nname = 1\n")
    r = await api.post("/api/calendars/CN/publish")
    (error,) = problem(r, 422)["errors"]
    assert error["field"] == "calendar data"
    # The file and the line, as an editor wants them.
    assert re.search(rf"{year}\.toml:\d+: ", error["reason"]), error["reason"]


async def test_publishing_needs_a_sign_in(
    dev_env: WorkflowEnvironment, session_engine: Engine, tmp_path: Path
) -> None:
    from tests.support import secured

    app = secured(create_app())
    settings = Settings(data_dir=tmp_path)
    attach(app, settings, session_engine, dev_env.client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.post("/api/calendars/CN/publish")
        assert r.status_code == 401
        r = await client.post("/api/calendars/CN/publish", headers={"Authorization": "Bearer x"})
        assert r.status_code == 401 and "Bearer x" not in r.text
