"""The application's one timer re-planned as it falls due, on the time-skipping server: a timer
about to fire is left to fire instead of cancelled, so a change that arrives as a threshold
passes never cancels a timer whose firing is already on its way (the time-skipping server
refuses such a task's completion and the run is never given another task)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.application import CancelRequest, ChangeInput
from tests.scenarios import TZ, Driver, application, hold_as_the_timer_falls_due
from tests.support import new_application_no
from worker import activities_for
from workflows.connection_application import ConnectionApplication

#: How long each write of the slow worker takes: the task that starts a timer runs its write
#: first, so the timer fires this much after its threshold.
WRITE_TIME = timedelta(seconds=1)
#: A caller waits this long for an answer before the test calls the run stranded.
ANSWER_WITHIN = 60


def fire_at(event: HistoryEvent) -> datetime:
    """When the server fires a started timer (its clock at the start plus the delay)."""
    delay = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
    return event.event_time.ToDatetime(tzinfo=UTC) + delay


async def timers(d: Driver) -> tuple[list[HistoryEvent], set[str], set[str]]:
    """The run's started timers, and the ids of those fired and cancelled."""
    history = await d.handle.fetch_history()
    started = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED]
    fired = {
        e.timer_fired_event_attributes.timer_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED
    }
    cancelled = {
        e.timer_canceled_event_attributes.timer_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_TIMER_CANCELED
    }
    return started, fired, cancelled


async def test_a_timer_about_to_fire_is_left_to_fire(
    ts_env: WorkflowEnvironment, ts_worker: Worker
) -> None:
    d = await hold_as_the_timer_falls_due(ts_env, ts_worker.task_queue, new_application_no())
    due: datetime = d.seen["due"]
    assert d.seen["held"].paused and d.seen["held"].next_due_at is None
    assert not d.seen["resumed"].paused and d.seen["resumed"].next_due_at is not None
    started, fired, cancelled = await timers(d)
    waited = [e for e in started if abs(fire_at(e) - due) < timedelta(seconds=5)]
    assert len(waited) == 1
    timer_id = waited[0].timer_started_event_attributes.timer_id
    assert timer_id in fired and timer_id not in cancelled


async def test_a_timer_far_off_is_cancelled(ts_env: WorkflowEnvironment, ts_worker: Worker) -> None:
    t0 = (await ts_env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    d = await Driver.begin(ts_env, ts_worker.task_queue, application(new_application_no(), t0))
    await d.to(t0 + timedelta(hours=1))
    due = (await d.status()).next_due_at
    assert due is not None and due - (t0 + timedelta(hours=1)) > timedelta(hours=1)
    await d.pause(t0 + timedelta(hours=1))
    started, _, cancelled = await timers(d)
    assert started[-1].timer_started_event_attributes.timer_id in cancelled


class SlowWrites:
    """The workflow's write (`record_change`) taking WRITE_TIME and writing nothing: a task
    that writes is still running when a timer due meanwhile fires."""

    @activity.defn(name="record_change")
    async def record_change(self, change: ChangeInput) -> None:  # noqa: ARG002
        await asyncio.sleep(WRITE_TIME.total_seconds())


async def test_a_hold_sent_as_the_timer_fires_is_answered_and_the_run_goes_on(
    ts_env: WorkflowEnvironment,
    ts_worker: Worker,
    session_engine: Engine,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> None:
    queue = f"{ts_worker.task_queue}-slow-writes"
    others = [
        a
        for a in activities_for(session_engine, None, ts_env.client)
        if getattr(a, "__name__", "") != "record_change"
    ]
    async with Worker(
        ts_env.client,
        task_queue=queue,
        workflows=[ConnectionApplication],
        activities=[*others, SlowWrites().record_change],
        activity_executor=executor,
    ):
        t0 = (await ts_env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
        d = await Driver.begin(ts_env, queue, application(new_application_no(), t0))
        await d.to(t0 + timedelta(hours=1))
        started, _, _ = await timers(d)
        fires = fire_at(started[-1])
        # Half a write before the timer fires: the hold's task is still writing when it fires.
        at = fires - WRITE_TIME / 2
        held = await asyncio.wait_for(d.pause(at), ANSWER_WITHIN)
        assert held.paused
        status = await asyncio.wait_for(d.status(), ANSWER_WITHIN)
        assert status.paused
        # The queue is this test's own: the run ends before its worker does.
        await asyncio.wait_for(
            d.handle.execute_update(
                ConnectionApplication.cancel, CancelRequest(reason="customer withdrew")
            ),
            ANSWER_WITHIN,
        )
        await asyncio.wait_for(d.handle.result(), ANSWER_WITHIN)
