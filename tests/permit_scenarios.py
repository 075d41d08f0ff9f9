"""The outside line's approvals in ConnectionApplication on a time-skipping server (the
permit-wait patch): what scripts/record_histories.py records for the replay tests, and what
tests/test_workflow_permits.py checks.

Results arrive as the webhook hands them over: one PermitDecision workflow per delivery, whose
activity records the result through the application's `record_permit` update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio.testing import WorkflowEnvironment

from contracts.application import ApplicationStatus, CancelRequest
from contracts.integrations import PermitDecided, PermitInput, PermitOutcome, permit_workflow_id
from contracts.plans import RevisePlanRequest
from tests.scenarios import SMX_HV, TZ, Driver, application
from workflows.connection_application import ConnectionApplication
from workflows.permit import PermitDecision

Scenario = Callable[[WorkflowEnvironment, str, str], Awaitable[Driver]]


async def until_status(d: Driver, check: Callable[[ApplicationStatus], bool]) -> ApplicationStatus:
    for _ in range(600):
        status = await d.status()
        if check(status):
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{d.start.application.application_no}: condition not met")


def _delivery(no: str, n: int) -> int:
    # Unique per application and step across the session's database.
    return int.from_bytes(no.encode()[-6:], "big") * 10 + n


async def deliver(d: Driver, n: int, kind: str, result: str, decided_at: datetime) -> PermitOutcome:
    """One permit result delivered (the webhook's hand-over), once its workflow completed."""
    no = d.start.application.application_no
    delivery = _delivery(no, n)
    permit = PermitDecided.model_validate(
        {"application_no": no, "kind": kind, "result": result, "decided_at": decided_at}
    )
    outcome: PermitOutcome = await d.env.client.execute_workflow(
        PermitDecision.run,
        PermitInput(delivery=delivery, permit=permit),
        id=permit_workflow_id(delivery),
        task_queue=d.seen["tq"],
    )
    return outcome


async def planned_at_survey(
    env: WorkflowEnvironment, tq: str, no: str, outside_line_m: float
) -> tuple[Driver, datetime]:
    """Sanmenxia, 10 kV, on the demo grid, with the outside line as measured: the plan is
    made at the site survey (000 三(二)6: above 200 m the line needs approvals, within 3
    working days; 200 m and under it is exempt)."""
    t0 = (await env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    inp = application(no, t0, location=SMX_HV, outside_line_m=outside_line_m)
    d = await Driver.begin(env, tq, inp)
    d.seen["tq"] = tq
    day = timedelta(days=1)
    await d.event("site_survey.started", t0 + day)
    await d.event("site_survey.completed", t0 + day + timedelta(hours=3))
    d.seen["planned"] = await until_status(d, lambda s: s.plan is not None)
    return d, t0 + day + timedelta(hours=3)


async def hv_permits_two_kinds(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """The plan needs approvals: the application opens its wait; a revision names two permits
    (掘路, 绿化); one approved: still waiting; the other rejected: open, returned to the
    customer manager; then approved: completed; a later rejection reopens it."""
    d, t = await planned_at_survey(env, tq, no, 450)
    d.seen["opened"] = await until_status(
        d, lambda s: s.permits is not None and s.permits.stage == "waiting"
    )
    hour = timedelta(hours=1)
    await d.to(t + hour)
    d.seen["revised"] = await d.handle.execute_update(
        ConnectionApplication.revise_plan,
        RevisePlanRequest(permits=["road_excavation", "greenery"], by="cm-001"),
    )
    await d.to(t + 2 * hour)
    d.seen["one"] = await deliver(d, 1, "road_excavation", "approved", t + 2 * hour)
    d.seen["after_one"] = await d.status()
    await d.to(t + 3 * hour)
    d.seen["rejected"] = await deliver(d, 2, "greenery", "rejected", t + 3 * hour)
    d.seen["after_rejected"] = await d.status()
    await d.to(t + 26 * hour)
    d.seen["both"] = await deliver(d, 3, "greenery", "approved", t + 26 * hour)
    d.seen["after_both"] = await d.status()
    await d.to(t + 27 * hour)
    d.seen["reopened"] = await deliver(d, 4, "road_excavation", "rejected", t + 27 * hour)
    d.seen["final"] = await d.status()
    await d.handle.execute_update(
        ConnectionApplication.cancel, CancelRequest(reason="customer withdrew", by="cm-001")
    )
    await d.handle.result()
    return d


async def hv_exempt_no_wait(env: WorkflowEnvironment, tq: str, no: str) -> Driver:
    """150 m of outside line: exempt (承诺备案制), the plan needs no approval, nothing opens,
    and a permit result is refused."""
    d, t = await planned_at_survey(env, tq, no, 150)
    await d.to(t + timedelta(hours=1))
    d.seen["permit"] = await deliver(d, 1, "road_excavation", "approved", t)
    d.seen["final"] = await d.status()
    await d.handle.execute_update(
        ConnectionApplication.cancel, CancelRequest(reason="customer withdrew", by="cm-001")
    )
    await d.handle.result()
    return d


SCENARIOS: dict[str, Scenario] = {
    "hv_permits_two_kinds": hv_permits_two_kinds,
    "hv_exempt_no_wait": hv_exempt_no_wait,
}


def events_of(status: ApplicationStatus, code: str = "admin_approval") -> list[str]:
    return [e.event for e in status.events if e.event.startswith(code + ".")]
