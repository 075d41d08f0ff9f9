"""Publishing calendar data reaches running applications (DESIGN.md §3), through the API."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

import calendars
from api.app import attach, create_app
from calendars import get_calendar
from calendars.loader import DATA_DIR, DATA_DIR_ENV
from core.config import Settings
from tests.support import new_application_no, problem

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the calendar data the API reads while the test edits it."""
    copy = tmp_path / "calendar-data"
    shutil.copytree(DATA_DIR, copy)
    monkeypatch.setenv(DATA_DIR_ENV, str(copy))
    calendars.reload()
    yield copy
    monkeypatch.delenv(DATA_DIR_ENV)
    calendars.reload()


def add_rest_day(data: Path, day: date) -> None:
    """An amendment to `day`'s year, or the year's first publication if it had no file."""
    path = data / "CN" / f"{day.year}.toml"
    entry = f'{{ name = "测试调休", start = {day.isoformat()}, end = {day.isoformat()} }}'
    if path.exists():
        with path.open("a", encoding="utf-8") as f:
            f.write(
                "\n[[amendments]]\n"
                'title = "测试：临时增加休息日"\n'
                'number = "测试〔1〕1号"\n'
                f"published = {date.today().isoformat()}\n"
                f"add_holidays = [{entry}]\n"
            )
    else:
        path.write_text(
            f'region = "CN"\nyear = {day.year}\n\n[notice]\n'
            f'title = "测试：{day.year}年部分节假日安排"\nnumber = "测试〔1〕1号"\n'
            f"published = {date.today().isoformat()}\n\n[[holidays]]\n"
            f'name = "测试调休"\nstart = {day.isoformat()}\nend = {day.isoformat()}\n',
            encoding="utf-8",
        )


async def test_publish_moves_pending_deadlines_of_running_applications(
    api: httpx.AsyncClient, data_dir: Path
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
    before = datetime.fromisoformat(r.json()["next_due_at"])
    old = get_calendar("CN")
    rest_day = old.add_workdays(datetime.now(TZ).date(), 3)
    assert rest_day < before.date()
    add_rest_day(data_dir, rest_day)

    r = await api.post("/api/calendars/CN/publish")
    assert r.status_code == 200, r.text
    published = r.json()
    assert published["version"] != old.version

    for _ in range(100):
        status = (await api.get(f"/api/applications/{no}")).json()
        if status["calendar"]["version"] == published["version"]:
            break
        await asyncio.sleep(0.1)
    assert status["calendar"]["versions"] == [old.version, published["version"]]
    after = datetime.fromisoformat(status["next_due_at"])
    new = get_calendar("CN")
    assert not new.is_workday(rest_day)
    # One working day was taken out of the remainder: the instant moves by one working day.
    assert new.work_time_between(before, after) == timedelta(days=1)
    assert any(e["event"] == "calendar.updated" for e in status["timeline"])


async def test_bad_calendar_data_is_refused_before_anything_is_sent(
    api: httpx.AsyncClient, data_dir: Path
) -> None:
    year = datetime.now(TZ).year
    path = data_dir / "CN" / f"{year}.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[[holidays]]\nname = 1\n")
    r = await api.post("/api/calendars/CN/publish")
    (error,) = problem(r, 422)["errors"]
    assert error["field"] == "calendar data"
    # The file and the line, as an editor wants them.
    assert re.search(rf"{year}\.toml:\d+: ", error["reason"]), error["reason"]


async def test_publishing_needs_the_admin_token_when_one_is_set(
    dev_env: WorkflowEnvironment, session_engine: Engine, tmp_path: Path
) -> None:
    app = create_app()
    settings = Settings(data_dir=tmp_path, admin_token=SecretStr("s3cret"))
    attach(app, settings, session_engine, dev_env.client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.post("/api/calendars/CN/publish")
        assert r.status_code == 403
        assert "s3cret" not in r.text
        r = await client.post("/api/calendars/CN/publish", headers={"X-Admin-Token": "wrong"})
        assert r.status_code == 403
