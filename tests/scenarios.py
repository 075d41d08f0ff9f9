"""Workflow scenarios shared by the workflow tests and the history recorder.

Each scenario drives one path through ConnectionApplication on a time-skipping server and
returns its driver; the recorder saves the resulting history under tests/histories/ so that
replay tests catch non-deterministic changes to workflow code.

The time-skipping server starts at the real current time and only moves forward, while the
documents' interesting weeks (National Day) are behind us. So scenarios that need a holiday
week run on the real 2026 CN calendar data shifted forward by whole multiples of 52 weeks
(weekdays stay aligned): the same holiday structure, in the server's future. Tests check that
the engine's instants on the shifted data are the real 2026 instants, shifted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from calendars import Calendar, get_calendar
from contracts.application import (
    ApplicationInput,
    ApplicationOutcome,
    ApplicationProfile,
    ApplicationStart,
    ApplicationStatus,
    CancelRequest,
    ChangeInput,
    Customer,
    HoldRequest,
    ImportedHistory,
    RecordedEvent,
    RecordEventRequest,
    UpdateResult,
    workflow_id,
)
from contracts.coordination import NoticeWrite
from contracts.outages import OutageAnswer
from contracts.plans import ApprovePlanRequest, JointReviewRequest, RevisePlanRequest
from domain.start import start_input
from domain.views import initial_search_attributes, summary
from policies.plans.resources import Location
from workflows.connection_application import CONTINUE_AS_NEW_MEMO, ConnectionApplication

TZ = ZoneInfo("Asia/Shanghai")
WEEK52 = timedelta(weeks=52)
# Monday before the 2026 National Day week (10-01..10-07, make-up days Sun 09-20, Sat 10-10).
ACCEPTED_2026 = datetime(2026, 9, 21, 10, 0, tzinfo=TZ)

Handle = WorkflowHandle[ConnectionApplication, ApplicationOutcome]


def shift_for(now: datetime) -> timedelta:
    """The smallest multiple of 52 weeks that puts ACCEPTED_2026 at least a day after `now`."""
    k = 1
    while ACCEPTED_2026 + k * WEEK52 < now + timedelta(days=1):
        k += 1
    return k * WEEK52


def shifted_calendar(shift: timedelta) -> Calendar:
    """CN's published 2026 data moved by `shift` (a multiple of 7 days); only the target year
    is published, so the rest of the synthetic calendar is visibly provisional."""
    real = get_calendar("CN")
    lo, hi = date(2026, 1, 1), date(2026, 12, 31)
    year = (ACCEPTED_2026 + shift).year

    def moved(days: tuple[date, ...]) -> list[date]:
        return [d + shift for d in days if lo <= d <= hi and (d + shift).year == year]

    return Calendar(
        region="CN",
        version=f"{real.version}+{shift.days}d",
        published_years=[year],
        holidays=moved(real.holidays()),
        makeup_workdays=moved(real.makeup_workdays()),
    )


def application(
    no: str,
    accepted_at: datetime,
    *,
    unit: str = "henan/sanmenxia",
    business_type: str = "hv",
    voltage: str | None = "10kV",
    capacity_kva: float | None = 630,
    **profile: Any,
) -> ApplicationInput:
    return ApplicationInput(
        application_no=no,
        profile=ApplicationProfile(
            unit=unit,
            business_type=business_type,
            voltage=voltage,
            capacity_kva=capacity_kva,
            accepted_at=accepted_at,
            **profile,
        ),
        customer=Customer(name="测试客户", phone="13800000000"),
        customer_manager="cm-001",
    )


class Driver:
    """Drives one application through time on a time-skipping server."""

    def __init__(self, env: WorkflowEnvironment, handle: Handle, start: ApplicationStart) -> None:
        self.env = env
        self.handle = handle
        self.start = start
        #: What a scenario saw on the way, for the tests that run it.
        self.seen: dict[str, Any] = {}

    @classmethod
    async def begin(
        cls,
        env: WorkflowEnvironment,
        task_queue: str,
        inp: ApplicationInput,
        calendar: Calendar | None = None,
        continue_as_new_after: int | None = None,
    ) -> Driver:
        driver_start = start_input(inp, calendar)
        await advance(env, inp.profile.accepted_at)
        handle = await env.client.start_workflow(
            ConnectionApplication.run,
            driver_start,
            id=workflow_id(inp.application_no),
            task_queue=task_queue,
            search_attributes=initial_search_attributes(inp),
            static_summary=summary(inp),
            # A test setting: a start option, never part of the start input.
            memo=(
                {CONTINUE_AS_NEW_MEMO: continue_as_new_after}
                if continue_as_new_after is not None
                else None
            ),
        )
        return cls(env, handle, driver_start)

    async def to(self, t: datetime) -> None:
        await advance(self.env, t)

    async def event(self, name: str, at: datetime, by: str = "cm-001") -> UpdateResult:
        await self.to(at)
        return await self.handle.execute_update(
            ConnectionApplication.record_event, RecordEventRequest(event=name, at=at, by=by)
        )

    async def pause(self, at: datetime, reason: str = "customer asked to wait") -> UpdateResult:
        await self.to(at)
        return await self.handle.execute_update(
            ConnectionApplication.pause, HoldRequest(reason=reason, at=at)
        )

    async def resume(self, at: datetime, reason: str = "customer ready") -> UpdateResult:
        await self.to(at)
        return await self.handle.execute_update(
            ConnectionApplication.resume, HoldRequest(reason=reason, at=at)
        )

    async def status(self) -> ApplicationStatus:
        return await self.handle.query(ConnectionApplication.status)

    async def details(self) -> str:
        """What Temporal UI shows as the workflow's current details."""
        meta = await self.handle.query("__temporal_workflow_metadata")
        text: str = meta.current_details
        return text


async def advance(env: WorkflowEnvironment, t: datetime) -> None:
    now = await env.get_current_time()
    if t > now:
        await env.sleep(t - now)


async def shifted_start(env: WorkflowEnvironment) -> tuple[timedelta, Calendar, datetime]:
    shift = shift_for(await env.get_current_time())
    return shift, shifted_calendar(shift), ACCEPTED_2026 + shift


# -- scenarios ------------------------------------------------------------------------------


async def hv_10kv_lifecycle(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """Henan (Sanmenxia) 10 kV single supply, every stage, plan reply late enough for blue,
    yellow and orange across the National Day week, then on to the archive."""
    shift, cal, t0 = await shifted_start(env)
    d = await Driver.begin(env, tq, application(no, t0), cal)
    day = timedelta(days=1)
    await d.event("joint_survey.started", t0 + timedelta(hours=5))
    await d.event("site_survey.started", t0 + day)
    await d.event("joint_survey.completed", t0 + day + timedelta(hours=2))
    await d.event("site_survey.completed", t0 + day + timedelta(hours=3))
    # Plan reply: completed 2027's equivalent of 2026-10-12 18:00, after yellow and orange.
    await d.event("plan_reply.completed", datetime(2026, 10, 12, 18, tzinfo=TZ) + shift)
    t = datetime(2026, 10, 13, 9, tzinfo=TZ) + shift
    await d.event("joint_drawing_review.started", t)
    await d.event("joint_drawing_review.completed", t + timedelta(hours=4))
    await d.event("customer_works.started", t + day)
    await d.event("customer_works.completed", t + 8 * day)
    t = t + 9 * day
    await d.event("completion_inspection.started", t)
    await d.event("joint_acceptance.started", t + timedelta(hours=1))
    await d.event("joint_acceptance.completed", t + timedelta(hours=3))
    await d.event("completion_inspection.completed", t + day)
    await d.event("contract.completed", t + day + timedelta(hours=2))
    await d.event("meter_install.completed", t + day + timedelta(hours=4))
    await d.event("dispatch_agreement.completed", t + 2 * day)
    await d.event("outage_plan.started", t + 2 * day + timedelta(hours=1))
    await d.event("outage_plan.completed", t + 2 * day + timedelta(hours=3))
    await d.event("energize.completed", t + 3 * day)
    await d.event("terminal_commissioning.started", t + 3 * day + timedelta(hours=1))
    await d.event("terminal_commissioning.completed", t + 4 * day)
    await d.event("archive.started", t + 4 * day + timedelta(hours=1))
    await d.event("archive.completed", t + 5 * day)
    await d.handle.result()
    return d


async def lv_residential_lifecycle(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    d = await Driver.begin(
        env, tq, application(no, t0, business_type="lv_residential", voltage="220V", capacity_kva=8)
    )
    hour = timedelta(hours=1)
    await d.event("site_survey.completed", t0 + 5 * hour)
    await d.event("meter_install.completed", t0 + 30 * hour)
    await d.event("terminal_commissioning.started", t0 + 31 * hour)
    await d.event("terminal_commissioning.completed", t0 + 40 * hour)
    await d.event("archive.started", t0 + 41 * hour)
    await d.event("archive.completed", t0 + 50 * hour)
    await d.handle.result()
    return d


async def cancelled(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    d = await Driver.begin(env, tq, application(no, t0))
    await d.to(t0 + timedelta(days=3))
    await d.handle.execute_update(
        ConnectionApplication.cancel, CancelRequest(reason="customer withdrew", by="cm-001")
    )
    await d.handle.result()
    return d


async def paused_and_resumed(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    d = await Driver.begin(env, tq, application(no, t0))
    await d.pause(t0 + timedelta(days=2))
    await d.resume(t0 + timedelta(days=9))
    await d.event("plan_reply.completed", t0 + timedelta(days=12))
    return d


async def hold_as_the_timer_falls_due(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """A hold half a minute before the next threshold: the timer waiting for it is left to
    fire into a run that no longer waits for it; the resume plans a new one."""
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    d = await Driver.begin(env, tq, application(no, t0))
    await d.to(t0 + timedelta(hours=1))
    due = (await d.status()).next_due_at
    assert due is not None
    d.seen["due"] = due
    d.seen["held"] = await d.pause(due - timedelta(seconds=30))
    d.seen["resumed"] = await d.resume(due + timedelta(minutes=1))
    return d


async def calendar_amended(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """Two days in, an amendment adds a rest day on Thursday 10-08 (2026 pattern); the pending
    blue (Friday 10-09) moves onto the make-up Saturday 10-10 and fires there."""
    shift, cal, t0 = await shifted_start(env)
    d = await Driver.begin(env, tq, application(no, t0), cal)
    await d.to(t0 + timedelta(days=2))
    await d.handle.signal(ConnectionApplication.calendar_updated, amended(cal, shift).snapshot())
    await d.to(datetime(2026, 10, 10, 11, tzinfo=TZ) + shift)
    return d


def amended(cal: Calendar, shift: timedelta) -> Calendar:
    return Calendar(
        region="CN",
        version=f"{cal.version}-amended",
        published_years=cal.published_years,
        holidays=[*cal.holidays(), (datetime(2026, 10, 8, tzinfo=TZ) + shift).date()],
        makeup_workdays=cal.makeup_workdays(),
    )


async def too_short_inspection(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """A completion inspection done in two hours: Henan's too-short table says under 4."""
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    d = await Driver.begin(env, tq, application(no, t0))
    await d.event("completion_inspection.started", t0 + timedelta(days=1))
    await d.event("completion_inspection.completed", t0 + timedelta(days=1, hours=2))
    return d


async def continued_as_new(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """A survey redone three times and a one-hour hold push the history past a low limit; the
    blue warning (moved to 11:00 by the hold) comes in the new run."""
    shift, cal, t0 = await shifted_start(env)
    d = await Driver.begin(env, tq, application(no, t0), cal, continue_as_new_after=30)
    for i, name in enumerate(["site_survey.started", "site_survey.completed"] * 3):
        await d.event(name, t0 + i * timedelta(hours=1))
    await d.pause(t0 + timedelta(hours=7))
    await d.resume(t0 + timedelta(hours=8))
    await d.to(datetime(2026, 10, 9, 12, tzinfo=TZ) + shift)
    return d


class FailingWrites:
    """The workflow's write (`record_change`) against a database that is down for its first
    `failures` calls: each fails at once, as a round of attempts that ran out of time would;
    then it succeeds (writing nothing). Notes the schedule-to-close limit of every call.
    The notices' writes (`write_notices`: a Henan 10 kV application is issued its joint survey
    notices at acceptance) succeed writing nothing; they are noted, not failed: the bounded
    write under test is the change's."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.limits: list[timedelta | None] = []
        self.notices: list[NoticeWrite] = []

    @activity.defn(name="write_notices")
    async def write_notices(self, write: NoticeWrite) -> int:
        self.notices.append(write)
        return 0

    @activity.defn(name="record_change")
    async def record_change(self, change: ChangeInput) -> None:  # noqa: ARG002
        self.calls += 1
        self.limits.append(activity.info().schedule_to_close_timeout)
        if self.calls <= self.failures:
            raise ApplicationError("the database is down", non_retryable=True)


async def database_down(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """The database is down when the application starts: the first write fails, the workflow
    says it waits on the database and retries on a one-minute timer; the second retry gets
    through, and a cancel closes the application."""
    writes = FailingWrites(failures=2)
    queue = f"{tq}-database-down"
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=[ConnectionApplication],
        activities=[writes.record_change, writes.write_notices],
    ):
        t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
        d = await Driver.begin(env, queue, application(no, t0))
        await d.to(t0 + timedelta(seconds=30))
        d.seen["waiting"] = await d.status()
        d.seen["waiting_details"] = await d.details()
        await d.to(t0 + timedelta(minutes=3))
        d.seen["recovered"] = await d.status()
        d.seen["recovered_details"] = await d.details()
        await d.handle.execute_update(
            ConnectionApplication.cancel, CancelRequest(reason="customer withdrew", by="cm-001")
        )
        await d.handle.result()
        # Queried while its worker still polls: the queue is this scenario's own.
        d.seen["closed"] = await d.status()
    d.seen["writes"] = writes
    return d


CHANGE_AND_DG: dict[str, tuple[str, str, dict[str, Any], list[str]]] = {
    "dg_lv": (
        "dg_lv",
        "380V",
        {"dg_variant": "pv_single_point"},
        ["site_survey.completed", "meter_install.completed", "energize.completed"],
    ),
    "capacity_reduction": (
        "capacity_reduction",
        "10kV",
        {},
        [
            "plan_reply.completed",
            "completion_inspection.started",
            "completion_inspection.completed",
            "meter_install.completed",
            "contract.completed",
            "energize.completed",
        ],
    ),
}


async def to_archive(env: WorkflowEnvironment, tq: str, no: str, kind: str) -> Driver:
    business_type, voltage, extra, events = CHANGE_AND_DG[kind]
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    inp = application(no, t0, business_type=business_type, voltage=voltage, **extra)
    d = await Driver.begin(env, tq, inp)
    at = t0
    for name in [*events, "archive.started", "archive.completed"]:
        at += timedelta(hours=5)
        await d.event(name, at)
    await d.handle.result()
    return d


async def dg_lv_lifecycle(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    return await to_archive(env, tq, no, "dg_lv")


async def capacity_reduction_lifecycle(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    return await to_archive(env, tq, no, "capacity_reduction")


# -- supply plans in the workflow (they need the demo grid in the worker's database) -------------

#: Near low-voltage points of the demo grid (readmodel.demo_grid) in Sanmenxia.
SMX_LV = Location(lon=111.2095, lat=34.7725)
#: Near 10 kV points of the demo grid in Sanmenxia; and a second place for a revision.
SMX_HV = Location(lon=111.21, lat=34.78)
SMX_HV_MOVED = Location(lon=111.215, lat=34.776)


async def plan_of(d: Driver, version: int = 1) -> ApplicationStatus:
    """The status once the plan of `version` (or a later one) is in it: the plan activity runs
    after the event that made it due, in the workflow's main loop."""
    for _ in range(600):
        status = await d.status()
        if status.plan is not None and status.plan.version >= version:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"no plan v{version} in the status of {d.start.application.application_no}"
    )


async def lv_plan_then_cancelled(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """Low voltage: the plan at acceptance (no plan-reply stage); cancelling releases it."""
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    inp = application(
        no, t0, business_type="lv_residential", voltage="220V", capacity_kva=8, location=SMX_LV
    )
    d = await Driver.begin(env, tq, inp)
    d.seen["planned"] = await plan_of(d)
    await d.to(t0 + timedelta(hours=3))
    await d.handle.execute_update(
        ConnectionApplication.cancel, CancelRequest(reason="customer withdrew", by="cm-001")
    )
    await d.handle.result()
    return d


async def hv_plan_revised_and_approved(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """10 kV: no plan until site_survey.completed; a revision with a new location gives v2;
    the approval records plan_reply.completed."""
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    d = await Driver.begin(env, tq, application(no, t0, location=SMX_HV))
    day = timedelta(days=1)
    await d.event("site_survey.started", t0 + day)
    d.seen["before"] = await d.status()
    await d.event("site_survey.completed", t0 + day + timedelta(hours=3))
    d.seen["v1"] = await plan_of(d)
    await d.to(t0 + 2 * day)
    d.seen["revised"] = await d.handle.execute_update(
        ConnectionApplication.revise_plan,
        RevisePlanRequest(location=SMX_HV_MOVED, by="cm-001", note="customer moved the substation"),
    )
    await d.to(t0 + 3 * day)
    d.seen["approved"] = await d.handle.execute_update(
        ConnectionApplication.approve_plan, ApprovePlanRequest(by="cm-001")
    )
    d.seen["final"] = await d.status()
    return d


async def hv_plan_joint_review(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """An important customer's plan goes to joint review; the reviewers' decision (works
    type) gives v2, which is proposed and holds its capacity."""
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    inp = application(no, t0, location=SMX_HV, important=True)
    d = await Driver.begin(env, tq, inp)
    await d.event("site_survey.completed", t0 + timedelta(hours=5))
    d.seen["v1"] = await plan_of(d)
    await d.to(t0 + timedelta(days=2))
    d.seen["reviewed"] = await d.handle.execute_update(
        ConnectionApplication.review_plan,
        JointReviewRequest(reviewers=["eng-01", "ops-02"], supporting_works="cable_line"),
    )
    d.seen["final"] = await d.status()
    return d


async def outage_of(d: Driver, outage_id: str | None = None) -> ApplicationStatus:
    """The status once the outage (or one other than `outage_id`) is in it: the scheduling
    activity runs after the event that made energization possible, in the main loop."""
    for _ in range(600):
        status = await d.status()
        if status.outage is not None and status.outage.id != outage_id:
            return status
        await asyncio.sleep(0.05)
    energize = [(m.id, m.started_at) for m in status.monitors if m.code == "energize"]
    plan = status.plan.state if status.plan else None
    raise AssertionError(
        f"no new outage in the status of {d.start.application.application_no}: "
        f"energize clocks {energize}, plan {plan}, skipped {status.skipped_stages}"
    )


async def to_energization(d: Driver, t: datetime) -> None:
    """Plan approved, then every prerequisite of energization (the grid works its plan needs
    among them) from `t` on, an hour apart."""
    hour = timedelta(hours=1)
    await d.handle.execute_update(
        ConnectionApplication.approve_plan, ApprovePlanRequest(by="cm-001")
    )
    skipped = set((await d.status()).skipped_stages)
    steps = ["customer_works.started", "customer_works.completed"]
    if "grid_works" not in skipped:
        steps += ["grid_works.started", "grid_works.completed"]
    steps += [
        "completion_inspection.started",
        "completion_inspection.completed",
        "contract.completed",
        "meter_install.completed",
        "dispatch_agreement.completed",
    ]
    for i, name in enumerate(steps):
        await d.event(name, t + i * hour)


#: At a switching station of a demo feeder no other scenario plans on (SMX-S02-F04, 会兴4线),
#: so the plan keeps that bay (the daily plan) whatever the other tests reserved before.
SMX_HV_OUTAGE = Location(lon=111.2415, lat=34.7953)


async def hv_outage_rejected_and_approved(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """10 kV on a switching-station bay (the daily plan): once energization is possible the
    outage is scheduled and submitted (outage_plan.started); dispatch rejects it, a new slot
    is found; dispatch approves that one (outage_plan.completed); energizing settles it."""
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    d = await Driver.begin(env, tq, application(no, t0, location=SMX_HV_OUTAGE))
    day = timedelta(days=1)
    await d.event("site_survey.completed", t0 + timedelta(hours=3))
    await plan_of(d)
    await d.to(t0 + day)
    await to_energization(d, t0 + day + timedelta(hours=1))
    d.seen["scheduled"] = first = await outage_of(d)
    assert first.outage is not None
    await d.to(t0 + 2 * day)
    d.seen["rejected"] = await d.handle.execute_update(
        ConnectionApplication.answer_outage,
        OutageAnswer(outage_id=first.outage.id, decision="rejected", at=t0 + 2 * day,
                     by="dsp-01", reason="feeder maintenance that day"),
    )  # fmt: skip
    await d.to(t0 + 3 * day)
    again = d.seen["rejected"].id
    d.seen["approved"] = await d.handle.execute_update(
        ConnectionApplication.answer_outage,
        OutageAnswer(outage_id=again, decision="approved", at=t0 + 3 * day, by="dsp-01"),
    )
    d.seen["after_approval"] = await d.status()
    assert first.outage.start_at is not None
    await d.event("energize.completed", max(t0 + 4 * day, d.seen["approved"].end_at))
    d.seen["energized"] = await settled_outage(d)
    return d


#: Next to a 10 kV branch box of the demo grid (SMX-S02-F03, a feeder no other scenario plans
#: on, so other tests' reservations never move the plan): live-line work is possible there.
SMX_HV_LIVE = Location(lon=111.2361, lat=34.812031)


async def hv_outage_live_line(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """10 kV at a branch box: the plan allows live-line work, so the outage plan is live-line
    work (随报随接): no outage, no notice; dispatch approves it and energizing settles it."""
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    d = await Driver.begin(env, tq, application(no, t0, location=SMX_HV_LIVE))
    await d.event("site_survey.completed", t0 + timedelta(hours=3))
    await plan_of(d)
    await d.to(t0 + timedelta(days=1))
    await to_energization(d, t0 + timedelta(days=1, hours=1))
    d.seen["scheduled"] = status = await outage_of(d)
    assert status.outage is not None and status.outage.end_at is not None
    await d.to(t0 + timedelta(days=2))
    d.seen["approved"] = await d.handle.execute_update(
        ConnectionApplication.answer_outage,
        OutageAnswer(outage_id=status.outage.id, decision="approved", at=t0 + timedelta(days=2)),
    )
    await d.event("energize.completed", status.outage.end_at)
    d.seen["energized"] = await settled_outage(d)
    return d


async def settled_outage(d: Driver) -> ApplicationStatus:
    """The status once the outage's energization was settled (done)."""
    for _ in range(600):
        status = await d.status()
        if status.outage is not None and status.outage.state == "done":
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"the outage of {d.start.application.application_no} is not done")


Scenario = Callable[[WorkflowEnvironment, str, str], Awaitable[Driver]]


async def imported_then_live(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """An hv application imported 20 days after its acceptance with its past (a survey, a
    hold): its workflow starts from that past without writing; a threshold still ahead fires
    live, then a live event is recorded."""
    now = (await env.get_current_time()).astimezone(TZ)
    t0 = now - timedelta(days=20)
    inp = application(no, t0)
    start = start_input(inp)
    day = timedelta(days=1)
    past = [
        ("site_survey.started", t0 + day, None),
        ("site_survey.completed", t0 + 2 * day, None),
        ("pause", t0 + 3 * day, "customer asked to wait"),
        ("resume", t0 + 15 * day, "customer ready"),
    ]
    start.history = ImportedHistory(
        events=[
            RecordedEvent(event=e, at=at, reason=why, note=why, recorded_at=now)
            for e, at, why in past
        ],
        imported_at=now,
        source_ref="YK-0001",
    )
    handle = await env.client.start_workflow(
        ConnectionApplication.run,
        start,
        id=workflow_id(no),
        task_queue=tq,
        search_attributes=initial_search_attributes(inp),
    )
    d = Driver(env, handle, start)
    await d.to(now + 10 * day)
    await d.event("plan_reply.completed", now + 11 * day)
    return d


async def imported_then_updated(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """As `imported_then_live`, then a re-import adds the old system's later events (a hold,
    its end, the customer works' start) to the running workflow: recorded with origin
    `imported`."""
    d = await imported_then_live(env, tq, no)
    now = (await env.get_current_time()).astimezone(TZ)
    day = timedelta(days=1)
    for update, req in (
        (ConnectionApplication.pause, HoldRequest(reason="old", at=now, origin="imported")),
        (ConnectionApplication.resume, HoldRequest(reason="old", at=now, origin="imported")),
    ):
        await d.handle.execute_update(update, req)
    await d.handle.execute_update(
        ConnectionApplication.record_event,
        RecordEventRequest(event="customer_works.started", at=now, origin="imported"),
    )
    status = await d.status()
    assert [e.origin for e in status.timeline[-3:]] == ["imported"] * 3, status.timeline[-3:]
    await d.to(now + day)
    return d


async def held_at_threshold_instant(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """Henan low-voltage residential held at exactly its blue threshold's instant (24 h): the
    change and the timer fall due together; the timer is left to fire, then it is cancelled."""
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    d = await Driver.begin(
        env, tq, application(no, t0, business_type="lv_residential", voltage="220V", capacity_kva=8)
    )
    hour = timedelta(hours=1)
    await d.event("site_survey.completed", t0 + 5 * hour)
    await d.pause(t0 + 24 * hour)
    await d.resume(t0 + 48 * hour)
    await d.to(t0 + 50 * hour)
    await d.handle.execute_update(
        ConnectionApplication.cancel, CancelRequest(reason="customer withdrew", by="cm-001")
    )
    await d.handle.result()
    return d


SCENARIOS: dict[str, Scenario] = {
    "hv_10kv_lifecycle": hv_10kv_lifecycle,
    "lv_residential_lifecycle": lv_residential_lifecycle,
    "cancelled": cancelled,
    "paused_and_resumed": paused_and_resumed,
    "calendar_amended": calendar_amended,
    "too_short_inspection": too_short_inspection,
    "continued_as_new": continued_as_new,
    "dg_lv_lifecycle": dg_lv_lifecycle,
    "capacity_reduction_lifecycle": capacity_reduction_lifecycle,
    # Recorded after warnings and progress were handed to notifications (the patch's new path);
    # the histories above replay the old path.
    "hv_10kv_lifecycle_notified": hv_10kv_lifecycle,
    "continued_as_new_notified": continued_as_new,
    # Recorded after a change's projection and messages became one local activity
    # (ONE_WRITE_PATCH); the histories above replay the separate activities.
    "hv_10kv_lifecycle_one_write": hv_10kv_lifecycle,
    "continued_as_new_one_write": continued_as_new,
    "paused_and_resumed_one_write": paused_and_resumed,
    # Recorded after the State search attribute was added (STATE_PATCH): a cancellation and an
    # archived application set it; the histories above replay without it.
    "cancelled_with_state": cancelled,
    "capacity_reduction_lifecycle_with_state": capacity_reduction_lifecycle,
    # Recorded after the writes were bounded and retried on a timer (BOUNDED_WRITES_PATCH), with
    # the continue-as-new length in the memo; the histories above replay unbounded writes.
    "hv_10kv_lifecycle_bounded_writes": hv_10kv_lifecycle,
    "continued_as_new_bounded_writes": continued_as_new,
    "database_down": database_down,
    # Recorded with both the State search attribute and the bounded writes.
    "hv_10kv_lifecycle_bounded_with_state": hv_10kv_lifecycle,
    "cancelled_bounded_with_state": cancelled,
    # Supply plans made by the workflow (the supply-plan patch): at acceptance and cancelled,
    # at the site survey then revised and approved, and through joint review.
    "lv_plan_then_cancelled": lv_plan_then_cancelled,
    "hv_plan_revised_and_approved": hv_plan_revised_and_approved,
    "hv_plan_joint_review": hv_plan_joint_review,
    # Outage scheduling in the workflow (the outage-scheduling patch): scheduled when
    # energization is possible, rejected and scheduled again, approved, settled.
    "hv_outage_rejected_and_approved": hv_outage_rejected_and_approved,
    "hv_outage_live_line": hv_outage_live_line,
    # A timer about to fire is left to fire, not cancelled (the due-timer-left-to-fire patch).
    "hold_as_the_timer_falls_due": hold_as_the_timer_falls_due,
    # An application imported with its past (ApplicationStart.history), then live.
    "imported_then_live": imported_then_live,
    # A re-import adding the old system's later events to it (updates with origin `imported`).
    "imported_then_updated": imported_then_updated,
    # A change at a threshold's own instant, its timer left to fire (DUE_TIMER_PATCH).
    "held_at_threshold_instant": held_at_threshold_instant,
}
