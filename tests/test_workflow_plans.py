"""Supply plans made by ConnectionApplication on the time-skipping server: low voltage at
acceptance, 10 kV at the site survey, revision, approval, joint review, and the capacity each
holds and gives back (read from the reservations table the activities write)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.plans import ApprovePlanRequest
from readmodel.demo_grid import seed_demo_grid
from readmodel.demo_org import seed_demo_org
from readmodel.reservations import reservations_of
from tests.scenarios import (
    hv_plan_joint_review,
    hv_plan_revised_and_approved,
    lv_plan_then_cancelled,
)
from tests.support import new_application_no
from tests.test_workflow_connection_application import refusal
from workflows.connection_application import ConnectionApplication


@pytest.fixture
def grid(session_engine: Engine) -> Engine:
    """The demo grid in the database the session's worker plans on (loading is idempotent)."""
    seed_demo_org(session_engine)
    seed_demo_grid(session_engine)
    return session_engine


def grid_works_monitors(status: object) -> list[str]:
    return [m.id for m in status.monitors if m.code == "grid_works"]  # type: ignore[attr-defined]


async def test_low_voltage_gets_its_plan_at_acceptance_and_cancelling_releases_it(
    ts_env: WorkflowEnvironment, ts_worker: Worker, grid: Engine
) -> None:
    no = new_application_no()
    d = await lv_plan_then_cancelled(ts_env, ts_worker.task_queue, no)
    planned = d.seen["planned"]
    record = planned.plan
    assert record is not None and record.trigger == "accept.started"
    assert record.state == "proposed" and record.version == 1 and record.kind == "supply"
    assert record.plan is not None and record.plan.access_voltage in ("220V", "380V")
    assert [r.state for r in record.reservations] == ["held"]
    assert any(e.event == "plan.proposed" for e in planned.timeline)
    # The plan's low-voltage works put the application on the with-works clocks.
    assert record.plan.supporting_works is not None
    assert "grid_works" not in planned.skipped_stages
    held = reservations_of(grid, no)
    assert [(r.plan_version, r.state, r.release_reason) for r in held] == [
        (1, "released", "cancelled")
    ]


async def test_high_voltage_plans_at_the_survey_follows_revision_and_approval(
    ts_env: WorkflowEnvironment, ts_worker: Worker, grid: Engine
) -> None:
    no = new_application_no()
    d = await hv_plan_revised_and_approved(ts_env, ts_worker.task_queue, no)
    before = d.seen["before"]
    assert before.plan is None
    assert grid_works_monitors(before) == []
    v1 = d.seen["v1"].plan
    assert v1.trigger == "site_survey.completed" and v1.state == "proposed"
    assert v1.plan.access_voltage == "10kV" and v1.plan.supporting_works is not None
    # The deadlines follow the plan: its supporting works start the grid-works clock's rule.
    assert grid_works_monitors(d.seen["v1"]) != []
    revised = d.seen["revised"]
    assert revised.version == 2 and revised.trigger == "revise"
    assert revised.inputs.location is not None
    rows = {(r.plan_version, r.state) for r in reservations_of(grid, no)}
    assert (1, "released") in rows and (2, "held") in rows
    assert d.seen["approved"].recorded.event == "plan_reply.completed"
    final = d.seen["final"]
    assert final.plan.state == "approved" and final.plan.version == 2
    assert any(e.event == "plan_reply.completed" for e in final.events)
    # Approved once: a second approval is refused as the plan's state, nothing recorded.
    with pytest.raises(WorkflowUpdateFailedError) as exc:
        await d.handle.execute_update(
            ConnectionApplication.approve_plan, ApprovePlanRequest(by="cm-001")
        )
    assert refusal(exc).errors[0].field == "plan"


async def test_joint_review_decides_what_the_engine_could_not(
    ts_env: WorkflowEnvironment, ts_worker: Worker, grid: Engine
) -> None:
    no = new_application_no()
    d = await hv_plan_joint_review(ts_env, ts_worker.task_queue, no)
    v1 = d.seen["v1"].plan
    assert v1.state == "joint_review" and v1.reservations == []
    assert "class_needs_person" in [r.code for r in v1.plan.reasons]
    reviewed = d.seen["reviewed"]
    assert reviewed.version == 2 and reviewed.state == "proposed"
    assert reviewed.plan.supporting_works.type == "cable_line"
    assert not reviewed.plan.needs_joint_review
    assert any("joint review" in x.source for x in reviewed.plan.decisions)
    assert all(r.state == "held" for r in reviewed.reservations)
    assert d.seen["final"].plan.version == 2


async def test_approval_before_any_plan_is_refused(
    ts_env: WorkflowEnvironment, ts_worker: Worker, grid: Engine
) -> None:
    from tests.scenarios import TZ, Driver, application

    no = new_application_no()
    t0 = (await ts_env.get_current_time()).astimezone(TZ)
    d = await Driver.begin(ts_env, ts_worker.task_queue, application(no, t0))
    with pytest.raises(WorkflowUpdateFailedError) as exc:
        await d.handle.execute_update(
            ConnectionApplication.approve_plan, ApprovePlanRequest(by="cm-001")
        )
    assert refusal(exc).type == "conflict"


async def test_the_plan_and_its_clocks_survive_continue_as_new(
    ts_env: WorkflowEnvironment, ts_worker: Worker, grid: Engine
) -> None:
    from datetime import timedelta

    from tests.scenarios import SMX_HV, TZ, Driver, application, plan_of

    no = new_application_no()
    t0 = (await ts_env.get_current_time()).astimezone(TZ) + timedelta(minutes=1)
    inp = application(no, t0, location=SMX_HV)
    d = await Driver.begin(ts_env, ts_worker.task_queue, inp, continue_as_new_after=40)
    await d.event("site_survey.completed", t0 + timedelta(hours=1))
    planned = await plan_of(d)
    first_run = (await d.handle.describe()).run_id
    for i, name in enumerate(["joint_survey.started", "joint_survey.completed"] * 4):
        await d.event(name, t0 + timedelta(hours=2 + i))
    await d.to(t0 + timedelta(hours=12))
    after = await d.status()
    assert (await d.handle.describe()).run_id != first_run
    assert after.plan == planned.plan
    assert grid_works_monitors(after) == grid_works_monitors(planned) != []
    # The new run made no second plan and holds the one reservation.
    assert [(r.plan_version, r.state) for r in reservations_of(grid, no)] == [(1, "held")] * len(
        planned.plan.reservations  # type: ignore[union-attr]
    )
