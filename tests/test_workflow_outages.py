"""Outage scheduling in ConnectionApplication on the time-skipping server: the outage planned
once energization is possible, its customers told once, dispatch's rejection and the new slot
with its correction, the approval as the 送(停)电计划反馈 event, and the outage settled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.outages import OutageAnswer
from domain.outage_notices import CORRECTION_MONITOR, NOTICE_MONITOR
from policies.plans.resources import Location
from readmodel.demo_grid import seed_demo_grid
from readmodel.demo_org import seed_demo_org
from readmodel.outages import get_outage
from readmodel.outbox import OutboxRow
from tests.scenarios import (
    TZ,
    Driver,
    application,
    hv_outage_live_line,
    hv_outage_rejected_and_approved,
    outage_of,
    plan_of,
    settled_outage,
    to_energization,
)
from tests.support import new_application_no
from workflows.connection_application import ConnectionApplication

#: Between two switching stations of one demo feeder (SMX-S02-F02), with open capacity left
#: for two applications whatever the other tests reserved on the first scenario's feeder.
JOINED = Location(lon=111.2145, lat=34.8037)


@pytest.fixture
def grid(session_engine: Engine) -> Engine:
    seed_demo_org(session_engine)
    seed_demo_grid(session_engine)
    return session_engine


def outbox(engine: Engine, outage_id: str, monitor: str) -> list[OutboxRow]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(OutboxRow).where(
                    OutboxRow.application_no == outage_id, col(OutboxRow.monitor) == monitor
                )
            ).all()
        )


async def test_outage_scheduled_rejected_rescheduled_approved_and_done(
    ts_env: WorkflowEnvironment, ts_worker: Worker, grid: Engine
) -> None:
    no = new_application_no()
    d = await hv_outage_rejected_and_approved(ts_env, ts_worker.task_queue, no)
    first = d.seen["scheduled"]
    o = first.outage
    feeder = first.plan.plan.power_sources[0].connection_point.feeder
    assert o.tier == "daily" and o.feeder == feeder is not None and o.state == "submitted"
    assert o.applications == [no] and not o.joined and o.affected_customers > 0
    assert any("三(二)4" in line for line in o.explanation)
    # Submitted to dispatch: the 送(停)电计划 clock runs from the outage_plan.started event.
    assert "outage_plan.started" in [e.event for e in first.events]
    # The notice period: the outage starts at least 7 days after it was planned.
    assert o.notice_sent_at is not None and (o.start_at - o.notice_sent_at).days >= 7
    told = outbox(grid, o.id, NOTICE_MONITOR)
    assert len(told) == o.affected_customers and all(r.role == "customer" for r in told)
    assert all("计划于" in r.message and feeder in r.message for r in told)

    again = d.seen["rejected"]
    assert again.id != o.id and again.state == "submitted" and again.replaced == [o.id]
    assert again.start_at.date() != o.start_at.date()
    stored = get_outage(grid, o.id)
    assert stored is not None and stored.state == "rejected"
    assert stored.reason == "feeder maintenance that day"
    # Everyone told of the rejected outage gets one correction naming the new day.
    corrections = outbox(grid, o.id, CORRECTION_MONITOR)
    assert sorted(r.phone for r in corrections) == sorted(r.phone for r in told)
    assert all("更正" in r.message and "调整为" in r.message for r in corrections)
    # ...and the new outage is told once per customer too (the same feeder).
    assert len(outbox(grid, again.id, NOTICE_MONITOR)) == len(told)

    approved = d.seen["approved"]
    assert approved.id == again.id and approved.state == "approved"
    events = [e.event for e in d.seen["after_approval"].events]
    assert events.count("outage_plan.completed") == 1
    assert d.seen["after_approval"].outage.state == "approved"

    done = d.seen["energized"].outage
    assert done.id == again.id and done.state == "done"
    final = get_outage(grid, again.id)
    assert final is not None and final.state == "done" and final.applications == [no]


async def test_live_line_work_takes_no_outage_and_tells_nobody(
    ts_env: WorkflowEnvironment, ts_worker: Worker, grid: Engine
) -> None:
    no = new_application_no()
    d = await hv_outage_live_line(ts_env, ts_worker.task_queue, no)
    status = d.seen["scheduled"]
    assert status.plan.plan.live_line
    o = status.outage
    assert o.tier == "live_line" and o.affected_customers == 0 and o.notice_sent_at is None
    assert o.flags == [] and any("live_line" in line for line in o.explanation)
    # No notice period: the next working day after energization became possible.
    assert o.start_at is not None and (o.start_at - status.events[-1].at).days < 7
    assert outbox(grid, o.id, NOTICE_MONITOR) == []
    assert d.seen["approved"].state == "approved"
    assert d.seen["energized"].outage.state == "done"


async def test_a_second_application_on_the_feeder_joins_the_planned_outage(
    ts_env: WorkflowEnvironment, ts_worker: Worker, grid: Engine
) -> None:
    t0 = (await ts_env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    first = await Driver.begin(
        ts_env,
        ts_worker.task_queue,
        application(new_application_no(), t0, location=JOINED, capacity_kva=200),
    )
    second = await Driver.begin(
        ts_env,
        ts_worker.task_queue,
        application(new_application_no(), t0, location=JOINED, capacity_kva=200),
    )
    for d in (first, second):
        await d.event("site_survey.completed", t0 + timedelta(hours=3))
        await plan_of(d)
    await first.to(t0 + timedelta(days=1))
    await to_energization(first, t0 + timedelta(days=1, hours=1))
    a = (await outage_of(first)).outage
    assert a is not None
    # Two working days later the second is ready: it joins instead of adding an outage.
    await second.to(t0 + timedelta(days=3))
    await to_energization(second, t0 + timedelta(days=3, hours=1))
    b = (await outage_of(second)).outage
    assert b is not None and b.id == a.id and b.joined
    assert b.applications == [first.start.application.application_no,
                              second.start.application.application_no]  # fmt: skip
    assert any("joined outage" in line and "一停多用" in line for line in b.explanation)
    # The feeder's customers were told once, not twice.
    assert len(outbox(grid, a.id, NOTICE_MONITOR)) == a.affected_customers
    # Approving the outage answers both applications (each records its own feedback).
    for d in (first, second):
        answered = await d.handle.execute_update(
            ConnectionApplication.answer_outage,
            OutageAnswer(outage_id=a.id, decision="approved", at=t0 + timedelta(days=3, hours=9)),
        )
        assert answered.state == "approved"
    # Energized one by one: done when both are.
    assert a.end_at is not None
    await first.event("energize.completed", a.end_at)
    await second.event("energize.completed", a.end_at + timedelta(hours=1))
    await settled_outage(second)
    stored = get_outage(grid, a.id)
    assert stored is not None and stored.state == "done"
