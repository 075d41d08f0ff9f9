"""The outside line's approvals on the time-skipping server: the application opens its wait
when its plan needs approvals, with the pack's monitor; it completes only when every permit
kind the plan lists is approved; a rejection keeps it open (or reopens it) and returns the
application to its customer manager; an exempt line waits for nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from readmodel.demo_grid import seed_demo_grid
from readmodel.demo_org import seed_demo_org
from tests.permit_scenarios import events_of, hv_exempt_no_wait, hv_permits_two_kinds
from tests.scenarios import Driver
from tests.support import new_application_no


@pytest.fixture
def grid(session_engine: Engine) -> Engine:
    seed_demo_org(session_engine)
    seed_demo_grid(session_engine)
    return session_engine


def approval_monitors(status: Any) -> list[tuple[str, float, str]]:
    return [
        (m.id, m.provincial_limit.amount, m.provincial_limit.unit)
        for m in status.monitors
        if m.code == "admin_approval" and m.provincial_limit is not None
    ]


@pytest.fixture
async def two_kinds(ts_env: WorkflowEnvironment, ts_worker: Worker, grid: Engine) -> Driver:
    return await hv_permits_two_kinds(ts_env, ts_worker.task_queue, new_application_no())


async def test_two_permits_one_approved_waits_both_approved_completes(two_kinds: Driver) -> None:
    d = two_kinds
    opened = d.seen["opened"]
    # Opened by the application itself when the plan stood, timed by the pack (000 三(二)6).
    assert events_of(opened) == ["admin_approval.started"]
    started = next(e for e in opened.events if e.event == "admin_approval.started")
    assert started.by is None and "plan v1 needs approvals" in (started.note or "")
    assert approval_monitors(opened) == [("admin_approval", 3, "workday")]
    assert opened.permits.required and opened.permits.waiting_for == ["approval"]
    assert d.seen["revised"].plan.admin_approval.permits == ("road_excavation", "greenery")

    one = d.seen["one"]
    assert one.outcome == "unchanged" and "greenery" in (one.reason or "")
    after_one = d.seen["after_one"]
    assert events_of(after_one) == ["admin_approval.started"]
    assert after_one.permits.stage == "waiting" and after_one.permits.waiting_for == ["greenery"]
    states = {p.kind: (p.state, p.listed) for p in after_one.permits.permits}
    assert states == {"road_excavation": ("approved", True), "greenery": ("pending", True)}

    both = d.seen["both"]
    assert both.outcome == "recorded" and both.event == "admin_approval.completed"
    after_both = d.seen["after_both"]
    assert events_of(after_both) == ["admin_approval.started", "admin_approval.completed"]
    assert after_both.permits.stage == "completed" and after_both.permits.waiting_for == []
    assert [m.state for m in after_both.monitors if m.code == "admin_approval"] != ["pending"]


async def test_a_rejection_keeps_the_stage_open_or_reopens_it_and_returns_the_application(
    two_kinds: Driver,
) -> None:
    d = two_kinds
    rejected = d.seen["rejected"]
    assert rejected.outcome == "unchanged" and rejected.returned_to == "cm-001"
    open_ = d.seen["after_rejected"]
    assert open_.permits.stage == "waiting" and open_.permits.waiting_for == ["greenery"]
    assert {p.kind: p.state for p in open_.permits.permits}["greenery"] == "rejected"
    reopened = d.seen["reopened"]
    assert reopened.outcome == "recorded" and reopened.event == "admin_approval.started"
    assert reopened.returned_to == "cm-001"
    final = d.seen["final"]
    assert events_of(final)[-1] == "admin_approval.started"
    assert final.permits.stage == "waiting" and final.permits.waiting_for == ["road_excavation"]


async def test_an_exempt_line_opens_nothing_and_waits_for_nothing(
    ts_env: WorkflowEnvironment, ts_worker: Worker, grid: Engine
) -> None:
    d = await hv_exempt_no_wait(ts_env, ts_worker.task_queue, new_application_no())
    planned = d.seen["planned"]
    assert planned.plan.plan.admin_approval.required is False
    assert "admin_approval" in planned.skipped_stages
    final = d.seen["final"]
    assert events_of(final) == [] and approval_monitors(final) == []
    assert final.permits.stage == "not_applicable" and final.permits.required is False
    permit = d.seen["permit"]
    assert permit.outcome == "refused" and "does not apply" in (permit.reason or "")
