"""The dispatcher: rows leave in their window, once — through holiday weeks, retried
activities, a worker killed mid-batch and a failing gateway."""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.gateways import SendResult, SmsMessage
from activities.notifications import NotificationActivities
from calendars import Calendar, get_calendar
from contracts.notifications import DispatchRequest, DispatchResult
from core.config import Settings
from domain.notifications.windows import SendWindows
from readmodel.demo_org import seed_demo_org
from readmodel.outbox import OutboxRow
from readmodel.outbox_queue import OutboxQueue
from tests.notification_scenarios import (
    TZ,
    RecordingGateway,
    advance,
    first_workday_after,
    holiday_calendar,
    sample_notice,
)
from workflows.sms_dispatcher import (
    DISPATCHER_ID,
    DispatcherInput,
    SmsDispatcher,
    ensure_dispatcher,
)


@pytest_asyncio.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    # A server of our own: the dispatcher runs forever and skipping time for it must not
    # move the clock under the other modules' workflows.
    e = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    async with e:
        yield e


@pytest.fixture
def engine(any_engine: Engine) -> Engine:
    """The demo organisation, on SQLite and on PostgreSQL."""
    seed_demo_org(any_engine)
    return any_engine


def outbox(engine: Engine) -> list[OutboxRow]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxRow).order_by(OutboxRow.id)).all())  # type: ignore[arg-type]


def make_acts(
    engine: Engine, gateway: RecordingGateway, cal: Calendar, cls: type = NotificationActivities
) -> NotificationActivities:
    acts: NotificationActivities = cls(
        engine, Settings(sms_max_attempts=5), gateway=gateway, calendar_for=lambda _r: cal
    )
    return acts


async def settle(env: WorkflowEnvironment, handle: WorkflowHandle[SmsDispatcher, None]) -> None:
    """Wait until the dispatcher sleeps on its timer: terminating it while a task is in
    flight would leave the test server holding time still for good."""
    for _ in range(200):
        state = await handle.query(SmsDispatcher.state)
        if state.next_wake is not None and state.next_wake > await env.get_current_time():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the dispatcher never went back to sleep")


async def run_dispatcher(
    env: WorkflowEnvironment, acts: NotificationActivities, until: datetime
) -> None:
    tq = f"sms-{uuid.uuid4().hex[:8]}"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        async with Worker(
            env.client,
            task_queue=tq,
            workflows=[SmsDispatcher],
            activities=[acts.dispatch_due],
            activity_executor=pool,
        ):
            handle = await env.client.start_workflow(
                SmsDispatcher.run, DispatcherInput(poll_minutes=None), id=tq, task_queue=tq
            )
            await advance(env, until)
            await settle(env, handle)
            # It must not outlive its worker.
            await handle.terminate("test over")


async def test_friday_night_warning_waits_out_the_holiday_week(
    env: WorkflowEnvironment, engine: Engine
) -> None:
    cal, friday_22 = holiday_calendar(await env.get_current_time())
    gw = RecordingGateway()
    acts = make_acts(engine, gw, cal)
    assert acts.enqueue_warning(sample_notice(friday_22)) == 3
    # Sat, Sun rest; Mon-Fri holidays; the Saturday after is a make-up working day.
    first = first_workday_after(cal, friday_22.date())
    window = datetime.combine(first, datetime.min.time(), tzinfo=TZ).replace(hour=8, minute=30)
    assert first == friday_22.date() + timedelta(days=8)
    assert {r.send_after for r in outbox(engine)} == {window}

    await run_dispatcher(env, acts, window - timedelta(minutes=1))
    assert gw.calls == []  # queued through the whole week, never sent at night
    assert {r.state for r in outbox(engine)} == {"pending"}

    await run_dispatcher(env, acts, window + timedelta(days=2))
    rows = outbox(engine)
    assert {r.state for r in rows} == {"sent"}
    assert len(gw.calls) == 3 and len(gw.delivered) == 3  # once each
    for r in rows:
        assert r.sent_at is not None and window <= r.sent_at < window + timedelta(minutes=30)
        assert r.attempts == 1


class AnswerLostOnce(NotificationActivities):
    """Sends, commits, then fails before Temporal hears the answer: the retry must send
    nothing again."""

    lost = 0

    @activity.defn(name="dispatch_due")
    def dispatch_due(self, req: DispatchRequest) -> DispatchResult:
        out = super().dispatch_due(req)
        if out.sent and not AnswerLostOnce.lost:
            AnswerLostOnce.lost += 1
            raise RuntimeError("the worker lost the activity's answer")
        return out


async def test_activity_retried_after_it_sent_sends_nothing_twice(
    env: WorkflowEnvironment, engine: Engine
) -> None:
    now = await env.get_current_time()
    cal = get_calendar("CN")
    gw = RecordingGateway()
    acts = make_acts(engine, gw, cal, AnswerLostOnce)
    acts.enqueue_warning(sample_notice(now + timedelta(hours=1)))
    window = outbox(engine)[0].send_after
    await run_dispatcher(env, acts, window + timedelta(hours=1))
    assert AnswerLostOnce.lost == 1
    assert len(gw.calls) == 3 and len(gw.delivered) == 3
    assert [r.attempts for r in outbox(engine)] == [1, 1, 1]


async def test_crash_between_gateway_and_commit_is_retried_and_delivered_once(
    env: WorkflowEnvironment, engine: Engine
) -> None:
    now = await env.get_current_time()
    gw = RecordingGateway(crash_after_call=2)
    acts = make_acts(engine, gw, get_calendar("CN"))
    acts.enqueue_warning(sample_notice(now + timedelta(hours=1)))
    window = outbox(engine)[0].send_after
    await run_dispatcher(env, acts, window + timedelta(hours=1))
    rows = outbox(engine)
    assert {r.state for r in rows} == {"sent"}
    # The second message reached the gateway twice with the same id, the second time once
    # the crashed attempt's lease ran out; delivered once.
    assert gw.calls == ["sms-1", "sms-2", "sms-3", "sms-2"]
    assert len(gw.delivered) == 3
    assert [r.attempts for r in rows] == [1, 2, 1]


class Killed(BaseException):
    """The process dies: no exception handler, no commit, nothing after this point."""


def test_worker_killed_mid_batch_loses_and_repeats_nothing(engine: Engine) -> None:
    cal = get_calendar("CN")
    gw = RecordingGateway(crash_after_call=3, crash=Killed)
    at = datetime(2026, 9, 22, 8, 30, tzinfo=TZ)
    first = make_acts(engine, gw, cal)
    for level in ("blue", "yellow"):
        first.enqueue_warning(sample_notice(at - timedelta(hours=1), level=level))
    assert len(outbox(engine)) == 6
    with pytest.raises(Killed):
        first.dispatch_due(DispatchRequest(at=at))
    states = [r.state for r in outbox(engine)]
    assert states[:2] == ["sent", "sent"] and states[2:] == ["pending"] * 4
    # Another worker picks the dispatch up (Temporal retries it there).
    second = make_acts(engine, gw, cal)
    out = second.dispatch_due(DispatchRequest(at=at + timedelta(minutes=2)))
    assert out.sent == 4 and not out.more
    assert {r.state for r in outbox(engine)} == {"sent"}
    assert len(gw.delivered) == 6 and len(gw.calls) == 7  # the third id was resent once


def test_gateway_down_then_back_loses_nothing(engine: Engine) -> None:
    cal = get_calendar("CN")
    gw = RecordingGateway(script=["retry"] * 4)
    acts = make_acts(engine, gw, cal)
    at = datetime(2026, 9, 22, 8, 30, tzinfo=TZ)
    acts.enqueue_warning(sample_notice(at - timedelta(hours=1)))
    out = acts.dispatch_due(DispatchRequest(at=at))
    assert (out.sent, out.retrying) == (0, 3)
    rows = outbox(engine)
    assert all(r.state == "pending" and r.attempts == 1 and r.last_error for r in rows)
    # Backed off inside the window: the dispatcher is told to come back then.
    assert out.next_wake is not None
    assert at + timedelta(seconds=30) <= out.next_wake < at + timedelta(seconds=35)
    out = acts.dispatch_due(DispatchRequest(at=at + timedelta(minutes=1)))
    assert (out.sent, out.retrying) == (2, 1)
    out = acts.dispatch_due(DispatchRequest(at=at + timedelta(minutes=3)))
    assert out.sent == 1
    assert {r.state for r in outbox(engine)} == {"sent"}
    assert len(gw.delivered) == 3


def test_a_window_that_closes_while_the_gateway_fails_moves_to_the_next(engine: Engine) -> None:
    cal = get_calendar("CN")
    gw = RecordingGateway(script=["retry"] * 30)
    acts = make_acts(engine, gw, cal)
    at = datetime(2026, 9, 30, 15, 50, tzinfo=TZ)  # the last window before National Day
    acts.enqueue_warning(sample_notice(datetime(2026, 9, 30, 15, 0, tzinfo=TZ)))
    acts.dispatch_due(DispatchRequest(at=at))
    # Retry at 15:50:30 fits; then at 16:01 the window is closed.
    out = acts.dispatch_due(DispatchRequest(at=datetime(2026, 9, 30, 16, 1, tzinfo=TZ)))
    assert out.sent == 0 and out.rescheduled == 3
    assert {r.send_after for r in outbox(engine)} == {datetime(2026, 10, 8, 8, 30, tzinfo=TZ)}
    # At night nothing leaves, whatever is pending.
    night = acts.dispatch_due(DispatchRequest(at=datetime(2026, 10, 2, 22, 0, tzinfo=TZ)))
    assert night.sent == 0 and night.retrying == 0
    assert night.next_wake is not None and night.next_wake <= datetime(
        2026, 10, 8, 8, 30, tzinfo=TZ
    )


def test_rejected_is_failed_at_once_and_attempts_are_capped(engine: Engine) -> None:
    cal = get_calendar("CN")
    gw = RecordingGateway(script=["rejected"] + ["retry"] * 100)
    acts = make_acts(engine, gw, cal)
    at = datetime(2026, 9, 22, 8, 30, tzinfo=TZ)
    acts.enqueue_warning(sample_notice(at - timedelta(hours=1)))
    out = acts.dispatch_due(DispatchRequest(at=at))
    assert out.failed == 1
    t = at
    for _ in range(20):
        t += timedelta(minutes=5)
        acts.dispatch_due(DispatchRequest(at=t))
    rows = outbox(engine)
    assert [r.state for r in rows] == ["failed", "failed", "failed"]
    assert rows[0].attempts == 1  # 4xx: never retried
    assert all(r.attempts <= 5 for r in rows)


def test_two_dispatches_at_once_send_each_row_once(engine: Engine) -> None:
    """A timed-out attempt still running beside its retry: the claim lets only one send."""
    cal = get_calendar("CN")

    class SlowGateway(RecordingGateway):
        def send(self, message: SmsMessage) -> SendResult:
            time.sleep(0.02)
            return super().send(message)

    gw = SlowGateway()
    at = datetime(2026, 9, 22, 8, 30, tzinfo=TZ)
    for i in range(4):
        make_acts(engine, gw, cal).enqueue_warning(
            sample_notice(at - timedelta(hours=1), no=f"P{i}")
        )
    workers = [make_acts(engine, gw, cal) for _ in range(2)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda a: a.dispatch_due(DispatchRequest(at=at)), workers))
    assert sorted(gw.calls) == sorted(set(gw.calls)), gw.calls
    assert sum(r.sent for r in results) == 12
    assert len(gw.calls) == 12
    assert {r.attempts for r in outbox(engine)} == {1}


async def test_every_worker_start_finds_the_one_dispatcher(
    env: WorkflowEnvironment, engine: Engine
) -> None:
    tq = f"sms-{uuid.uuid4().hex[:8]}"
    acts = make_acts(engine, RecordingGateway(), get_calendar("CN"))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        async with Worker(
            env.client,
            task_queue=tq,
            workflows=[SmsDispatcher],
            activities=[acts.dispatch_due],
            activity_executor=pool,
        ):
            first = await ensure_dispatcher(env.client, tq, DispatcherInput(poll_minutes=None))
            second = await ensure_dispatcher(env.client, tq, DispatcherInput(poll_minutes=None))
            assert first and first == second
            handle = env.client.get_workflow_handle_for(SmsDispatcher.run, DISPATCHER_ID)
            await settle(env, handle)
            await handle.terminate("test over")


def test_failed_rows_can_be_requeued_for_the_next_window(engine: Engine) -> None:
    cal = get_calendar("CN")
    gw = RecordingGateway(script=["rejected"] * 3)
    acts = make_acts(engine, gw, cal)
    at = datetime(2026, 9, 22, 8, 30, tzinfo=TZ)
    acts.enqueue_warning(sample_notice(at - timedelta(hours=1)))
    acts.dispatch_due(DispatchRequest(at=at))
    assert {r.state for r in outbox(engine)} == {"failed"}
    # The gateway is repaired on the evening before National Day.
    windows = SendWindows(Settings().sms_progress_hours, calendar_for=lambda _r: cal)
    assert OutboxQueue(engine).requeue_failed(datetime(2026, 9, 30, 19, 0, tzinfo=TZ), windows) == 3
    rows = outbox(engine)
    assert {(r.state, r.attempts) for r in rows} == {("pending", 0)}
    assert {r.send_after for r in rows} == {datetime(2026, 10, 8, 8, 30, tzinfo=TZ)}
    assert all(r.last_error for r in rows)  # what went wrong stays visible
    out = acts.dispatch_due(DispatchRequest(at=datetime(2026, 10, 8, 8, 30, tzinfo=TZ)))
    assert out.sent == 3 and len(gw.delivered) == 3
