"""Coordination-notice scenarios (协同通知) on the time-skipping server, shared by the workflow
tests and the history recorder (scripts/record_histories.py).

Henan (Sanmenxia) 10 kV: the pack's table issues 联合勘查通知 at acceptance to operations,
dispatch and development, 联合审图通知 at the design review to operations, 联合验收通知 at the
completion inspection to operations and dispatch. The design review exists only for the
customers that keep it (important ones, asset transfers), and its notice with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from contracts.application import CancelRequest
from contracts.coordination import (
    AnswerNoticeRequest,
    IssueNoticesRequest,
    NoticeRecord,
    notice_id,
)
from tests.scenarios import ACCEPTED_2026, TZ, Driver, application, shifted_start
from workflows.connection_application import ConnectionApplication

#: Friday of the week before National Day, 10:00. The working-day clock counts from the next
#: working day (Monday, after the weekend), so 24 working hours run out at the end of Monday.
FRIDAY_2026 = datetime(2026, 9, 25, 10, 0, tzinfo=TZ)
MONDAY_2026 = datetime(2026, 9, 28, 10, 0, tzinfo=TZ)
DUE_2026 = datetime(2026, 9, 29, 0, 0, tzinfo=TZ)
assert timedelta(days=4) == FRIDAY_2026 - ACCEPTED_2026


async def answer(
    d: Driver,
    at: datetime,
    kind: str,
    department: str,
    result: str = "agreed",
    opinion: str | None = None,
    round_no: int = 1,
) -> NoticeRecord:
    await d.to(at)
    no = d.start.application.application_no
    req = AnswerNoticeRequest(
        notice_id=notice_id(no, kind, department, round_no),
        result=result,  # type: ignore[arg-type]
        opinion=opinion,
        by=f"co-{department[:3]}-smx",
    )
    return await d.handle.execute_update(ConnectionApplication.answer_notice, req)


async def notices_of(d: Driver, kind: str) -> list[NoticeRecord]:
    return [n for n in (await d.status()).notices if n.kind == kind]


async def hv_notices_answered(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """Accepted on a Friday: operations and dispatch agree the joint survey the same day,
    development only on Tuesday morning (its yellow at the end of Monday, 24 working hours on);
    the drawing review is issued and agreed; the acceptance notices are withdrawn when the
    application is cancelled."""
    shift, cal, _ = await shifted_start(env)
    t0 = FRIDAY_2026 + shift
    # An important customer keeps the design review (and so the joint drawing review).
    d = await Driver.begin(env, tq, application(no, t0, important=True), cal)
    await d.to(t0 + timedelta(minutes=1))
    d.seen["issued"] = await notices_of(d, "joint_survey")
    await answer(d, t0 + timedelta(hours=2), "joint_survey", "operations")
    await answer(d, t0 + timedelta(hours=3), "joint_survey", "dispatch")
    monday = MONDAY_2026 + shift
    await d.to(monday)
    d.seen["monday"] = await d.status()
    await d.to(DUE_2026 + shift + timedelta(hours=1))
    d.seen["late"] = await d.status()
    await answer(d, DUE_2026 + shift + timedelta(hours=9), "joint_survey", "development")
    d.seen["agreed"] = await d.status()
    day = timedelta(days=1)
    await d.event("site_survey.started", monday + day)
    await d.event("site_survey.completed", monday + day + timedelta(hours=2))
    await d.event("plan_reply.completed", monday + 2 * day)
    await d.event("design_review.started", monday + 2 * day + timedelta(hours=1))
    await d.to(monday + 2 * day + timedelta(hours=2))
    d.seen["drawing"] = await notices_of(d, "joint_drawing_review")
    await answer(d, monday + 2 * day + timedelta(hours=3), "joint_drawing_review", "operations")
    await d.event("design_review.completed", monday + 2 * day + timedelta(hours=4))
    t = datetime(2026, 10, 12, 9, tzinfo=TZ) + shift
    await d.event("completion_inspection.started", t)
    await d.to(t + timedelta(hours=1))
    d.seen["acceptance"] = await notices_of(d, "joint_acceptance")
    await d.handle.execute_update(ConnectionApplication.cancel, CancelRequest(reason="测试撤销"))
    await d.handle.result()
    d.seen["final"] = await d.status()
    return d


async def hv_notice_rejected_reissued(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """Development rejects the joint survey with its opinion; the customer manager issues it
    again to development (round 2, a fresh clock), which agrees."""
    shift, cal, _ = await shifted_start(env)
    t0 = ACCEPTED_2026 + shift
    d = await Driver.begin(env, tq, application(no, t0), cal)
    await answer(d, t0 + timedelta(hours=1), "joint_survey", "operations")
    await answer(d, t0 + timedelta(hours=2), "joint_survey", "dispatch")
    rejected = await answer(
        d, t0 + timedelta(hours=3), "joint_survey", "development", "rejected", "缺少规划红线图"
    )
    d.seen["rejected"] = rejected
    await d.to(t0 + timedelta(hours=6))
    req = IssueNoticesRequest(kind="joint_survey", departments=["development"], by="cm-001")
    d.seen["reissued"] = await d.handle.execute_update(ConnectionApplication.issue_notices, req)
    await answer(d, t0 + timedelta(hours=8), "joint_survey", "development", round_no=2)
    d.seen["final"] = await d.status()
    await d.handle.execute_update(ConnectionApplication.cancel, CancelRequest(reason="测试结束"))
    await d.handle.result()
    return d


Scenario = Callable[[WorkflowEnvironment, str, str], Awaitable[Driver]]
SCENARIOS: dict[str, Scenario] = {
    # Coordination notices issued and answered in the workflow (the coordination-notices patch).
    "hv_notices_answered": hv_notices_answered,
    "hv_notice_rejected_reissued": hv_notice_rejected_reissued,
}
