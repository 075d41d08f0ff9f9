"""ConnectionApplication on the time-skipping test server: timers, warnings, holds, calendar
changes, too-short flags, continue-as-new and a worker restart mid-wait."""

from __future__ import annotations

import asyncio
import concurrent.futures
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from calendars import Calendar, get_calendar
from contracts import search_attributes as sa
from contracts.application import RaisedWarning, RecordEventRequest, workflow_id
from contracts.errors import REFUSAL_ERROR_TYPE, Refusal
from domain.start import start_input
from domain.views import initial_search_attributes
from readmodel.applications import ApplicationRow, TimelineRow, WarningRow
from tests.scenarios import (
    ACCEPTED_2026,
    CHANGE_AND_DG,
    TZ,
    Driver,
    amended,
    application,
    calendar_amended,
    continued_as_new,
    hv_10kv_lifecycle,
    lv_residential_lifecycle,
    shifted_start,
    to_archive,
    too_short_inspection,
)
from tests.support import describe_raw, new_application_no, search_attributes
from worker import build_worker
from workflows.connection_application import ConnectionApplication

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@pytest.fixture
def worker(ts_worker: Worker) -> Worker:
    return ts_worker


@pytest.fixture
def db_engine(session_engine: Engine) -> Engine:
    # The session worker projects into the session database.
    return session_engine


async def now(env: WorkflowEnvironment) -> datetime:
    return (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)


def refusal(exc: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> Refusal:
    """The refusal the update failed with, as the API reads it: from the error's details."""
    cause = exc.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == REFUSAL_ERROR_TYPE
    assert cause.non_retryable
    found = Refusal.from_details(cause.details)
    assert found is not None, cause.details
    return found


async def test_10kv_lifecycle_warns_at_the_engines_instants_across_national_day(
    ts_env: WorkflowEnvironment, worker: Worker, db_engine: Engine
) -> None:
    no = new_application_no()
    d = await hv_10kv_lifecycle(ts_env, worker.task_queue, no)
    shift = d.start.application.profile.accepted_at - ACCEPTED_2026
    final = await d.status()
    assert final.state == "completed" and final.stage == "archive"

    raised: dict[tuple[str, str], RaisedWarning] = {(w.monitor, w.level): w for w in final.warnings}
    # The plan reply (10 working days provincial, 11 national) was answered on 10-12 18:00 of
    # the 2026 pattern: blue, yellow and orange passed; red (10-13 10:00) never came. The
    # National Day week and the Mid-Autumn day do not count.
    expected = {
        ("hv.plan_reply", "blue"): datetime(2026, 10, 9, 10, tzinfo=TZ),
        ("hv.plan_reply", "yellow"): datetime(2026, 10, 12, 10, tzinfo=TZ),
        ("hv.plan_reply", "orange"): datetime(2026, 10, 12, 10, tzinfo=TZ),
    }
    for key, instant in expected.items():
        assert raised[key].due_at == instant + shift, key
    assert ("hv.plan_reply", "red") not in raised
    for w in final.warnings:
        # Each warning is recorded when its durable timer fires: at its instant, to the second.
        assert timedelta(0) <= w.raised_at - w.due_at < timedelta(seconds=1), w
        # Each instant is the engine's for that monitor and level.
        monitor = next(m for m in final.monitors if m.id == w.monitor)
        assert w.due_at in [t.due_at for t in monitor.thresholds if t.level == w.level]
        assert not w.open  # the application is archived: nothing is owed any more
    assert all(w.roles for w in final.warnings)

    history = await d.handle.fetch_history()
    assert len(history.events) < 300

    attrs = await search_attributes(d.handle)
    assert attrs[sa.STAGE.name] == "archive"
    assert attrs.get(sa.WARNING_LEVEL.name) is None
    assert attrs.get(sa.NEXT_DUE_AT.name) is None
    assert attrs[sa.POLICY_VERSION.name] == d.start.policy.version

    with Session(db_engine) as s:
        row = s.get(ApplicationRow, no)
        assert row is not None and row.state == "completed" and row.warning_level is None
        rows = s.exec(select(WarningRow).where(WarningRow.application_no == no)).all()
        assert {(r.monitor, r.level) for r in rows} == set(raised)
        timeline = s.exec(
            select(TimelineRow)
            .where(TimelineRow.application_no == no)
            .order_by(col(TimelineRow.seq))
        ).all()
        assert [t.event for t in timeline] == [t.event for t in final.timeline]


async def test_open_warning_is_the_highest_level_and_visible_at_once(
    ts_env: WorkflowEnvironment, worker: Worker, db_engine: Engine
) -> None:
    shift, cal, t0 = await shifted_start(ts_env)
    no = new_application_no()
    d = await Driver.begin(ts_env, worker.task_queue, application(no, t0), cal)
    await d.to(datetime(2026, 10, 12, 10, 30, tzinfo=TZ) + shift)
    status = await d.status()
    levels = {m.id: m.level for m in status.monitors if m.level is not None}
    # The plan reply is at orange; the joint survey notices issued at acceptance, never
    # answered, reached red at two working days: the application shows the higher of the two.
    assert levels == {"hv.plan_reply": "orange", "notice.joint_survey": "red"}
    assert status.warning_level == "red"
    assert status.next_due_at == datetime(2026, 10, 13, 10, tzinfo=TZ) + shift  # plan reply red
    attrs = await search_attributes(d.handle)
    assert attrs[sa.WARNING_LEVEL.name] == "red"
    assert status.next_due_at is not None
    assert datetime.fromisoformat(attrs[sa.NEXT_DUE_AT.name]) == status.next_due_at
    with Session(db_engine) as s:
        row = s.get(ApplicationRow, no)
        assert row is not None and row.warning_level == "red"


async def test_refused_events_change_nothing(ts_env: WorkflowEnvironment, worker: Worker) -> None:
    t0 = await now(ts_env)
    d = await Driver.begin(ts_env, worker.task_queue, application(new_application_no(), t0))
    await d.to(t0 + DAY)
    # Only the joint survey's start, recorded by its notices at acceptance.
    issued = (await d.status()).events
    assert [(e.event, e.actor) for e in issued] == [("joint_survey.started", "coordination")]
    cases = [
        (RecordEventRequest(event="warp_drive.started"), "invalid", "event"),
        (RecordEventRequest(event="plan_reply.completed", at=t0 + 3 * DAY), "invalid", "at"),
        (RecordEventRequest(event="plan_reply.completed", at=t0 - HOUR), "invalid", "at"),
        # Design review is only for important customers (Sanmenxia: +3 days for them).
        (RecordEventRequest(event="design_review.started"), "invalid", "event"),
        # Energization waits for inspection, contract and dispatch agreement first.
        (RecordEventRequest(event="energize.completed"), "conflict", "event"),
    ]
    for req, kind, field in cases:
        with pytest.raises(WorkflowUpdateFailedError) as info:
            await d.handle.execute_update(ConnectionApplication.record_event, req)
        found = refusal(info)
        assert found.type == kind, (req, found)
        assert [e.field for e in found.errors] == [field], found
    assert (await d.status()).events == issued

    await d.event("completion_inspection.started", t0 + DAY)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await d.event("completion_inspection.started", t0 + DAY)
    assert refusal(info).type == "conflict"
    await d.event("completion_inspection.completed", t0 + 2 * DAY)
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await d.event("completion_inspection.completed", t0 + 2 * DAY)
    assert "already completed" in refusal(info).errors[0].reason
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await d.resume(t0 + 2 * DAY)
    assert refusal(info).type == "conflict"
    assert [e.event for e in (await d.status()).events] == [
        "joint_survey.started",
        "completion_inspection.started",
        "joint_acceptance.started",  # its notices, issued as the inspection starts
        "completion_inspection.completed",
    ]


async def test_low_voltage_residential_to_archive(
    ts_env: WorkflowEnvironment, worker: Worker
) -> None:
    d = await lv_residential_lifecycle(ts_env, worker.task_queue, new_application_no())
    final = await d.status()
    assert final.state == "completed"
    full = next(m for m in final.monitors if m.code == "full_process")
    assert full.state == "met"
    assert "plan_reply" in final.skipped_stages or not any(
        m.code == "plan_reply" for m in final.monitors
    )


@pytest.mark.parametrize("kind", sorted(CHANGE_AND_DG))
async def test_distributed_generation_and_change_service_to_archive(
    ts_env: WorkflowEnvironment, worker: Worker, kind: str
) -> None:
    d = await to_archive(ts_env, worker.task_queue, new_application_no(), kind)
    outcome = await d.handle.result()
    assert (outcome.state, outcome.stage) == ("completed", "archive")
    final = await d.status()
    assert outcome.events == len(final.events)
    assert [e.event for e in final.events] == [
        *CHANGE_AND_DG[kind][3],
        "archive.started",
        "archive.completed",
    ]
    assert all(m.state in ("met", "pending") for m in final.monitors), [
        (m.id, m.state) for m in final.monitors
    ]


async def test_pause_and_resume_move_the_due_instants(
    ts_env: WorkflowEnvironment, worker: Worker
) -> None:
    shift, cal, t0 = await shifted_start(ts_env)
    d = await Driver.begin(ts_env, worker.task_queue, application(new_application_no(), t0), cal)
    before = await d.status()
    plan = next(m for m in before.monitors if m.id == "hv.plan_reply")
    blue = next(t.due_at for t in plan.thresholds if t.level == "blue")
    # A two-day customer hold on Tue-Thu of the first week: the clock stops for 2 working days.
    await d.to(t0 + DAY)
    lines = {m.id: (m.state, m.level, m.next_due_at) for m in (await d.status()).monitors}
    paused = await d.pause(t0 + DAY)
    assert paused.paused
    # The answer lists exactly the monitors the hold moved: the running ones, now paused.
    after = (await d.status()).monitors
    moved = {m.id for m in after if lines[m.id] != (m.state, m.level, m.next_due_at)}
    assert moved and {m.id for m in paused.changed_monitors} == moved
    assert next(m for m in paused.changed_monitors if m.id == "hv.plan_reply").state == "paused"
    resumed = await d.resume(t0 + 3 * DAY)
    assert not resumed.paused
    plan = next(m for m in (await d.status()).monitors if m.id == "hv.plan_reply")
    new_blue = next(t.due_at for t in plan.thresholds if t.level == "blue")
    # The resume's answer carries the plan reply's moved instant (the application's earliest
    # is another monitor's: the joint survey notices issued at acceptance, overdue by now).
    resumed_plan = next(m for m in resumed.changed_monitors if m.id == "hv.plan_reply")
    assert resumed_plan.next_due_at == new_blue
    running = [m.next_due_at for m in resumed.changed_monitors if m.next_due_at is not None]
    assert resumed.next_due_at == min(running)
    assert new_blue is not None and blue is not None
    assert cal.work_time_between(blue, new_blue) == 2 * DAY
    # Friday 10-09 plus two working days: Saturday 10-10 is National Day's make-up working day.
    assert new_blue == datetime(2026, 10, 12, 10, tzinfo=TZ) + shift
    await d.to(new_blue + HOUR)
    warnings = {(w.monitor, w.level): w for w in (await d.status()).warnings}
    assert warnings[("hv.plan_reply", "blue")].due_at == new_blue
    assert [p.reason for p in plan.pauses] == ["customer asked to wait"]


async def test_calendar_update_mid_flight_recomputes_pending_instants(
    ts_env: WorkflowEnvironment, worker: Worker
) -> None:
    d = await calendar_amended(ts_env, worker.task_queue, new_application_no())
    shift = d.start.application.profile.accepted_at - ACCEPTED_2026
    cal = Calendar.from_snapshot(d.start.calendar)
    after = await d.status()
    # Blue was due Friday 10-09; the amendment's rest day on Thursday moved it one working day,
    # onto the make-up Saturday, where the timer followed it.
    blue = next(w for w in after.warnings if w.monitor == "hv.plan_reply" and w.level == "blue")
    assert blue.due_at == datetime(2026, 10, 10, 10, tzinfo=TZ) + shift
    assert timedelta(0) <= blue.raised_at - blue.due_at < timedelta(seconds=1)
    new_version = amended(cal, shift).version
    assert after.calendar is not None
    assert after.calendar.versions == [cal.version, new_version]
    assert [t.event for t in after.timeline].count("calendar.updated") == 1
    # Sent again (an operator re-publishes) or for another region: nothing changes.
    await d.handle.signal(ConnectionApplication.calendar_updated, amended(cal, shift).snapshot())
    other = Calendar(
        region="CN-XX", version="x", published_years=[], holidays=[], makeup_workdays=[]
    )
    await d.handle.signal(ConnectionApplication.calendar_updated, other.snapshot())
    again = await d.status()
    assert again.calendar == after.calendar
    assert len(again.timeline) == len(after.timeline)


async def test_too_short_completion_is_flagged_when_it_arrives(
    ts_env: WorkflowEnvironment, worker: Worker, db_engine: Engine
) -> None:
    no = new_application_no()
    d = await too_short_inspection(ts_env, worker.task_queue, no)
    status = await d.status()
    assert [f.rule for f in status.too_short] == ["hv.completion_inspection"]
    flag = status.too_short[0]
    assert flag.result == "onsite_check"
    # Flagged the moment the completion arrived (the update's own answer carried it).
    assert status.timeline[-1].event == "too_short"
    assert timedelta(0) <= status.timeline[-1].at - flag.completed_at < timedelta(seconds=1)
    assert (await search_attributes(d.handle))[sa.TOO_SHORT.name] is True
    with Session(db_engine) as s:
        row = s.get(ApplicationRow, no)
        assert row is not None and row.too_short


async def test_too_short_flag_is_in_the_completing_events_own_answer_only(
    ts_env: WorkflowEnvironment, worker: Worker
) -> None:
    t0 = await now(ts_env)
    d = await Driver.begin(ts_env, worker.task_queue, application(new_application_no(), t0))
    started = await d.event("completion_inspection.started", t0 + DAY)
    assert started.too_short == []
    done = await d.event("completion_inspection.completed", t0 + DAY + 2 * HOUR)
    assert [(f.monitor, f.result) for f in done.too_short] == [
        ("hv.completion_inspection", "onsite_check")
    ]
    # Later answers carry only what they raise; the status keeps every flag.
    later = await d.event("contract.completed", t0 + 2 * DAY)
    assert later.too_short == []
    assert len((await d.status()).too_short) == 1


async def test_continue_as_new_keeps_everything(
    ts_env: WorkflowEnvironment, worker: Worker
) -> None:
    d = await continued_as_new(ts_env, worker.task_queue, new_application_no())
    shift = d.start.application.profile.accepted_at - ACCEPTED_2026
    current = (await describe_raw(d.handle)).workflow_execution_info.execution.run_id
    assert current != d.handle.first_execution_run_id
    history = await d.handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert started.continued_execution_run_id  # this run continues an earlier one
    after = await d.status()
    assert [e.event for e in after.events] == [
        "joint_survey.started",  # by the notices issued at acceptance
        *["site_survey.started", "site_survey.completed"] * 3,
        "pause",
        "resume",
    ]
    assert [t.event for t in after.timeline][:10] == [
        "accept.started",
        *[e.event for e in after.events],
    ]
    # The notices came across with the rest, still open.
    assert sorted((n.kind, n.department, n.state) for n in after.notices) == [
        ("joint_survey", department, "open")
        for department in ("development", "dispatch", "operations")
    ]
    # The hold moved blue from 10:00 to 11:00; it came in a later run, on its exact instant.
    blue = next(w for w in after.warnings if w.monitor == "hv.plan_reply")
    assert blue.due_at == datetime(2026, 10, 9, 11, tzinfo=TZ) + shift
    assert timedelta(0) <= blue.raised_at - blue.due_at < timedelta(seconds=1)


async def test_timer_survives_a_worker_restart(
    dev_env: WorkflowEnvironment,
    db_engine: Engine,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    """On a real server: the blue instant passes while no worker runs; the next worker finds
    the fired timer in history and raises the warning for the instant it was due."""
    cal = get_calendar("CN")
    # Accepted so that blue (8 of the 10 working days) falls a few seconds from now: enough
    # for the start and one query on a loaded machine, short enough to wait for.
    blue_at = datetime.now(TZ).replace(microsecond=0) + timedelta(seconds=6)
    accepted = cal.add_work_time(blue_at, -8 * DAY)
    tq = f"tq-{uuid.uuid4()}"
    inp = application(new_application_no(), accepted)
    async with build_worker(dev_env.client, db_engine, tq, executor):
        handle = await dev_env.client.start_workflow(
            ConnectionApplication.run,
            start_input(inp),
            id=workflow_id(inp.application_no),
            task_queue=tq,
            search_attributes=initial_search_attributes(inp),
        )
        status = await handle.query(ConnectionApplication.status)
        assert status.next_due_at == blue_at
        assert status.warnings == []
    while datetime.now(TZ) < blue_at + timedelta(seconds=1):
        await asyncio.sleep(0.2)
    async with build_worker(dev_env.client, db_engine, tq, executor):
        for _ in range(50):
            status = await handle.query(ConnectionApplication.status)
            if status.warnings:
                break
            await asyncio.sleep(0.1)
        await handle.terminate("test finished")
    blue = status.warnings[0]
    assert (blue.monitor, blue.level, blue.due_at) == ("hv.plan_reply", "blue", blue_at)
    assert blue.raised_at > blue.due_at  # raised late, when a worker was back, but not lost


async def test_overdue_list_for_operators_on_a_real_server(
    dev_env: WorkflowEnvironment,
    db_engine: Engine,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    """`temporal workflow list --query "WarningLevel = 'red' AND Unit = '...'"`: a plan reply
    accepted 12 working days ago is past its national 11-day limit the moment it starts."""
    accepted = get_calendar("CN").add_work_time(datetime.now(TZ), -12 * DAY)
    tq = f"tq-{uuid.uuid4()}"
    inp = application(new_application_no(), accepted, unit="henan/xinyang/huangchuan")
    async with build_worker(dev_env.client, db_engine, tq, executor):
        handle = await dev_env.client.start_workflow(
            ConnectionApplication.run,
            start_input(inp),
            id=workflow_id(inp.application_no),
            task_queue=tq,
            search_attributes=initial_search_attributes(inp),
        )
        query = "WarningLevel = 'red' AND Unit = 'henan/xinyang/huangchuan'"
        for _ in range(100):
            ids = [w.id async for w in dev_env.client.list_workflows(query)]
            if handle.id in ids:
                break
            await asyncio.sleep(0.1)
        assert handle.id in ids
        desc = await handle.describe()
        assert desc.typed_search_attributes.get(sa.WARNING_LEVEL) == "red"
        # What Temporal UI shows as the workflow's current details: the open level and the
        # next instant, and nothing personal.
        meta = await handle.query("__temporal_workflow_metadata")
        details = meta.current_details
        # In Chinese for staff, with the codes in brackets.
        assert "红色预警 [red]" in details and "[plan_reply]" in details
        assert inp.customer.name not in details and "138" not in details
        await handle.terminate("test finished")
