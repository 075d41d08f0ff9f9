"""Snapshots: lossless, compact, I/O-free, and usable inside the Temporal workflow sandbox."""

from __future__ import annotations

import builtins
import json
import shutil
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from calendar_sandbox_workflow import CalendarSnapshotWorkflow, DeadlineRequest, DeadlineResult
from hypothesis import given, settings
from hypothesis import strategies as st
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from calendars import Calendar, CalendarSnapshot, ClockConfig, get_calendar

SH = ZoneInfo("Asia/Shanghai")
CN = get_calendar("CN")
OFFICE = get_calendar("CN", clock="office_hours", strict=True)


def test_snapshot_fields() -> None:
    snap = CN.snapshot()
    assert snap.region == "CN"
    assert snap.version == CN.version
    assert snap.tz == "Asia/Shanghai"
    assert snap.clock == ClockConfig()
    assert snap.published_years == tuple(range(2020, 2027))
    assert list(snap.holidays) == sorted(snap.holidays)
    assert all(d.weekday() < 5 for d in snap.holidays)
    assert all(d.weekday() >= 5 for d in snap.makeup_workdays)
    assert date(2020, 1, 31) in snap.holidays
    assert date(2020, 2, 1) not in snap.makeup_workdays
    assert {s.year for s in snap.sources} == set(range(2020, 2027))


def test_snapshot_json_round_trip_is_compact() -> None:
    snap = OFFICE.snapshot()
    text = snap.model_dump_json()
    assert len(text) < 6000
    again = CalendarSnapshot.model_validate_json(text)
    assert again == snap
    assert json.loads(text)["clock"]["kind"] == "office_hours"
    assert Calendar.from_snapshot(again).snapshot() == snap


def test_from_snapshot_does_no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    # A version never seen before: built here, not answered from the shared calendars.
    snap = CN.snapshot().model_copy(update={"version": uuid.uuid4().hex})

    def no_open(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("from_snapshot opened a file")

    monkeypatch.setattr(builtins, "open", no_open)
    monkeypatch.setattr(Path, "read_text", no_open)
    monkeypatch.setattr(Path, "read_bytes", no_open)
    cal = Calendar.from_snapshot(snap)
    assert cal.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_equal_snapshots_share_one_calendar() -> None:
    """Every workflow of a region carries the same snapshot: its tables are built once."""
    snap = CN.snapshot()
    same = Calendar.from_snapshot(snap)
    assert (
        Calendar.from_snapshot(CalendarSnapshot.model_validate_json(snap.model_dump_json())) is same
    )
    other = Calendar.from_snapshot(snap.model_copy(update={"version": "amended"}))
    assert other is not same and other.version == "amended"


def test_snapshot_calendar_agrees_on_every_day() -> None:
    twin = Calendar.from_snapshot(CN.snapshot())
    d = date(2018, 1, 1)
    while d <= date(2028, 12, 31):
        assert twin.is_workday(d) == CN.is_workday(d)
        assert twin.is_provisional(d) == CN.is_provisional(d)
        d += timedelta(days=1)
    assert twin.version == CN.version


@settings(max_examples=200)
@given(
    st.datetimes(
        min_value=datetime(2018, 1, 1), max_value=datetime(2029, 1, 1), timezones=st.just(SH)
    ),
    st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)),
    st.integers(min_value=-700, max_value=700),
)
def test_snapshot_calendar_computes_the_same(t: datetime, delta: timedelta, n: int) -> None:
    for original in (CN, get_calendar("CN", clock="office_hours")):
        twin = Calendar.from_snapshot(original.snapshot())
        d = t.date()
        assert twin.add_workdays(d, n) == original.add_workdays(d, n)
        other = d + timedelta(days=n)
        assert twin.workdays_between(d, other) == original.workdays_between(d, other)
        assert twin.add_work_time(t, delta) == original.add_work_time(t, delta)
        u = t + delta
        assert twin.work_time_between(t, u) == original.work_time_between(t, u)


def test_strict_flag_travels_with_the_snapshot() -> None:
    twin = Calendar.from_snapshot(OFFICE.snapshot())
    assert twin.strict
    with pytest.raises(LookupError):
        twin.add_workdays(date(2026, 12, 31), 1)


def test_importing_calendars_pulls_in_no_numpy_and_no_data() -> None:
    code = (
        "import sys; import calendars; "
        "from calendars import Calendar, CalendarSnapshot; "
        "assert 'numpy' not in sys.modules, 'numpy imported'; "
        "assert 'calendars.batch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


async def test_snapshot_works_inside_the_workflow_sandbox() -> None:
    server = shutil.which("temporal-test-server") or str(
        Path(sys.executable).parent / "temporal-test-server"
    )
    snap = CN.snapshot()
    start = datetime(2026, 9, 30, 15, tzinfo=SH)
    async with (
        await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=server, data_converter=pydantic_data_converter
        ) as env,
        Worker(env.client, task_queue="calendar-test", workflows=[CalendarSnapshotWorkflow]),
    ):
        result = await env.client.execute_workflow(
            CalendarSnapshotWorkflow.run,
            DeadlineRequest(snapshot=snap, start=start, hours=48),
            id=f"calendar-{uuid.uuid4()}",
            task_queue="calendar-test",
            result_type=DeadlineResult,
        )
    assert result.due == datetime(2026, 10, 9, 15, tzinfo=SH)
    assert result.version == CN.version
    assert not result.provisional
