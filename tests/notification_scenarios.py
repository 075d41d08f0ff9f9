"""Helpers and scenarios for the notification tests and the history recorder.

- `RecordingGateway`: an in-memory SMS platform that honours message ids (a repeated id is
  acknowledged and not delivered again, as real platforms do with a client message id) and
  can be told to fail.
- `holiday_calendar`: a CN-like calendar with a holiday week in the time-skipping server's
  future (the server starts at the real current time and only moves forward).
- `SCENARIOS`: dispatcher paths recorded into tests/histories/ for the replay test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.gateways import SendResult, SmsMessage
from activities.notifications import NotificationActivities
from calendars import Calendar
from contracts.application import WarningNotice
from core.config import Settings
from readmodel.demo_org import seed_demo_org
from workflows.sms_dispatcher import DispatcherInput, SmsDispatcher

TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class RecordingGateway:
    """Delivers to `delivered` (message id → (phone, text)); every call is in `calls`."""

    delivered: dict[str, tuple[str, str]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    #: Outcomes to answer before behaving normally (e.g. ["retry", "retry"]).
    script: list[str] = field(default_factory=list)
    #: Raise this after delivering the message with this 1-based call number.
    crash_after_call: int | None = None
    crash: type[BaseException] = RuntimeError
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: SmsMessage) -> SendResult:
        with self.lock:
            self.calls.append(message.message_id)
            if self.script:
                outcome = self.script.pop(0)
                if outcome != "sent":
                    return SendResult(outcome, "503 scripted failure")  # type: ignore[arg-type]
            self.delivered.setdefault(message.message_id, (message.phone, message.text))
            if self.crash_after_call is not None and len(self.calls) == self.crash_after_call:
                self.crash_after_call = None
                raise self.crash("worker died after the gateway accepted")
            return SendResult("sent", "200 ok")


def holiday_calendar(now: datetime) -> tuple[Calendar, datetime]:
    """A calendar whose first Friday at least two days after `now` is followed by a
    Monday-Friday holiday week and a make-up Saturday after it. Returns it and that Friday
    22:00 (local)."""
    d = now.astimezone(TZ).date() + timedelta(days=2)
    while d.weekday() != 4:
        d += timedelta(days=1)
    holidays = [d + timedelta(days=i) for i in range(3, 8)]  # Mon..Fri
    makeup = [d + timedelta(days=8)]  # the Saturday after
    years = sorted({x.year for x in [d, *holidays, *makeup]})
    cal = Calendar(
        region="CN",
        version="test-holiday-week",
        published_years=years,
        holidays=holidays,
        makeup_workdays=makeup,
    )
    return cal, datetime.combine(d, datetime.min.time(), tzinfo=TZ).replace(hour=22)


def sample_notice(raised_at: datetime, level: str = "red", no: str = "N0001") -> WarningNotice:
    return WarningNotice(
        application_no=no,
        unit="henan/sanmenxia",
        business_type="hv",
        voltage="10kV",
        customer_manager="cm-001",
        monitor="hv.plan_reply",
        code="plan_reply",
        level=level,  # type: ignore[arg-type]
        due_at=raised_at,
        raised_at=raised_at,
        roles=["customer_manager", "connection_specialist", "marketing_director"],
        result="assess",
    )


def first_workday_after(cal: Calendar, d: date) -> date:
    d += timedelta(days=1)
    while not cal.is_workday(d):
        d += timedelta(days=1)
    return d


DispatcherHandle = WorkflowHandle[SmsDispatcher, None]


async def advance(env: WorkflowEnvironment, t: datetime) -> None:
    now = await env.get_current_time()
    if t > now:
        await env.sleep(t - now)


async def dispatch_over_a_holiday_week(
    env: WorkflowEnvironment, tq: str, engine: Engine, settings: Settings
) -> DispatcherHandle:
    """A red warning raised at 22:00 on the Friday before the holiday week, dispatched in
    the first window of the next working day. The worker on `tq` must run the dispatcher
    with NotificationActivities(engine, ...) and the CN calendar."""
    seed_demo_org(engine)
    now = await env.get_current_time()
    d = now.astimezone(TZ).date() + timedelta(days=1)
    while d.weekday() != 4:
        d += timedelta(days=1)
    friday_22 = datetime.combine(d, datetime.min.time(), tzinfo=TZ).replace(hour=22)
    NotificationActivities(engine, settings).enqueue_warning(sample_notice(friday_22))
    handle = await env.client.start_workflow(
        SmsDispatcher.run,
        DispatcherInput(poll_minutes=None),
        id=f"sms-dispatcher-{tq}",
        task_queue=tq,
    )
    await advance(env, friday_22 + timedelta(days=4))
    await handle.signal(SmsDispatcher.wake)
    await advance(env, friday_22 + timedelta(days=4, hours=1))
    # Stop it only while it sleeps on its timer: terminating it with a task in flight would
    # leave the test server holding time still.
    for _ in range(200):
        state = await handle.query(SmsDispatcher.state)
        if state.next_wake is not None and state.next_wake > await env.get_current_time():
            break
        await asyncio.sleep(0.02)
    await handle.terminate("recorded")
    return handle


Scenario = Callable[[WorkflowEnvironment, str, Engine, Settings], Awaitable[DispatcherHandle]]
SCENARIOS: dict[str, Scenario] = {
    "sms_dispatcher_weekend": dispatch_over_a_holiday_week,
}
