"""The plan's decisions in the application's life, without Temporal: when the plan is made,
what the deadlines read of it, and what the reviewers' decision changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from activities.plans import with_rules
from contracts.grid import Reservation as Held
from contracts.grid import ResourceRef
from contracts.plans import JointReviewDecision, PlanInputs, PlanJob, PlanRecord, PlanState
from domain.ledger import ApplicationLedger
from domain.plans import (
    AT_ACCEPTANCE,
    AT_SURVEY,
    ReviewError,
    deadline_profile,
    missing_input,
    plan_due,
    plan_kind,
    plan_trigger,
    policy_with_plan,
    reviewed,
    without_own_holds,
    without_resources,
)
from domain.start import start_input
from policies.loader import load_policy
from policies.plans.demo_grid import demo_grid
from policies.plans.engine import plan
from policies.plans.request import PlanRequest
from policies.plans.resources import Location
from tests.scenarios import TZ, application

T0 = datetime(2026, 11, 16, 9, tzinfo=TZ)
UNIT = "henan/sanmenxia"


def skipped_of(business_type: str, voltage: str, capacity: float = 8) -> list[str]:
    inp = application("DP001", T0, business_type=business_type, voltage=voltage,
                      capacity_kva=capacity)  # fmt: skip
    return sorted(ApplicationLedger(start_input(inp), T0).skipped)


def test_low_voltage_plans_at_acceptance_high_voltage_at_the_survey() -> None:
    lv = skipped_of("lv_residential", "220V")
    assert "plan_reply" in lv
    assert plan_trigger("lv_residential", lv) == AT_ACCEPTANCE
    hv = skipped_of("hv", "10kV", 630)
    assert "plan_reply" not in hv
    assert plan_trigger("hv", hv) == AT_SURVEY
    # Distributed generation has a plan reply (答复接入方案): its access plan at the survey.
    dg = skipped_of("dg_lv", "380V", 50)
    assert plan_trigger("dg_lv", dg) == AT_SURVEY and plan_kind("dg_lv") == "access"
    assert plan_kind("hv") == "supply"
    # A change service gets no plan, and a pack without a survey plans at acceptance.
    assert plan_trigger("rename_residential", lv) is None
    assert plan_trigger("hv", ["site_survey"]) == AT_ACCEPTANCE


def test_the_plan_is_due_once_at_its_event() -> None:
    assert plan_due("hv", [], ["site_survey.started"], None) is None
    assert plan_due("hv", [], ["site_survey.completed"], None) == AT_SURVEY
    made = PlanRecord(version=1, kind="supply", trigger=AT_SURVEY, state="proposed", made_at=T0)
    assert plan_due("hv", [], ["site_survey.completed"], made) is None


def test_what_a_plan_needs() -> None:
    p = application("DP002", T0).profile
    assert missing_input(p, PlanInputs()) is not None
    assert missing_input(p, PlanInputs(location=Location(lon=111.2, lat=34.77))) is None
    assert missing_input(p, PlanInputs(outside_line_m=120)) is None
    assert missing_input(p.model_copy(update={"capacity_kva": None}), PlanInputs(
        outside_line_m=120)).startswith("capacity_kva")  # type: ignore[union-attr]  # fmt: skip


def hv_plan(location: Location, **profile: Any) -> tuple[PlanRecord, PlanRequest]:
    inp = application("DP003", T0, location=location, **profile)
    request = PlanRequest.from_profile(inp.profile)
    grid = demo_grid(UNIT)
    answer = plan(request, grid, load_policy(UNIT))
    state: PlanState = "joint_review" if answer.needs_joint_review else "proposed"
    record = PlanRecord(
        version=1, kind="supply", trigger=AT_SURVEY, state=state, made_at=T0, plan=answer
    )
    return record, request


def centre_point() -> Location:
    grid = demo_grid(UNIT)
    p = next(p for p in grid.points if p.voltage == "10kV" and not p.restricted)
    return Location(lon=p.location.lon + 0.001, lat=p.location.lat)


def test_the_deadlines_read_the_plans_works_and_outside_line() -> None:
    record, _ = hv_plan(centre_point())
    profile = application("DP004", T0).profile
    assert record.plan is not None and record.state == "proposed"
    fed = deadline_profile(profile, record)
    works = record.plan.supporting_works
    assert fed.grid_works is not None and works is not None
    assert (fed.grid_works.type, fed.grid_works.voltage) == (works.type, "10kV")
    assert fed.outside_line_m == record.plan.outside_line_m
    # In joint review nothing is decided yet: the hand-entered values stay.
    pending = record.model_copy(update={"state": "joint_review"})
    assert deadline_profile(profile, pending) is profile


def test_the_ledger_takes_the_plans_rules_and_clocks() -> None:
    location = centre_point()
    inp = application("DP005", T0, location=location)
    start = start_input(inp)
    book = ApplicationLedger(start, T0)
    assert not [m for m in book.evaluate(T0).monitors if m.code == "grid_works"]
    record, _ = hv_plan(location)
    job = PlanJob(
        application_no="DP005", version=1, kind="supply", trigger=AT_SURVEY, at=T0,
        profile=inp.profile, policy_version=start.policy.version,
        monitor_ids=[m.id for m in start.policy.monitors],
        too_short_ids=[t.id for t in start.policy.too_short],
    )  # fmt: skip
    record = with_rules(record, job, load_policy(UNIT))
    assert record.added_monitors
    book.adopt_plan(record, T0)
    assert [m for m in book.evaluate(T0).monitors if m.code == "grid_works"]
    assert "grid_works" not in book.skipped
    assert book.timeline[-1].event == "plan.proposed"
    # Carried to the next run: the same rules and clocks.
    carried = start.model_copy(update={"carried": book.carried()})
    again = ApplicationLedger(carried, T0)
    assert [m.id for m in again.evaluate(T0).monitors] == [m.id for m in book.evaluate(T0).monitors]
    assert policy_with_plan(start.policy, None) is start.policy
    # Another pack version: no rules are added.
    bare = record.model_copy(update={"added_monitors": [], "added_too_short": []})
    other = job.model_copy(update={"policy_version": "other"})
    assert with_rules(bare, other, load_policy(UNIT)).added_monitors == []


def test_own_holds_count_as_open_and_full_resources_are_left_out() -> None:
    grid = demo_grid(UNIT)
    fid, feeder = next(iter(grid.feeders.items()))
    busy = grid.model_copy(
        update={"feeders": {**grid.feeders, fid: feeder.model_copy(update={"reserved_kva": 500})}}
    )
    mine = Held(id=1, application_no="A", plan_version=1, resource=ResourceRef(kind="feeder",
                id=fid), kva=300, state="held", created_at=T0)  # fmt: skip
    assert without_own_holds(busy, [mine]).feeders[fid].reserved_kva == 200
    gone = without_own_holds(busy, [mine.model_copy(update={"state": "released"})])
    assert gone.feeders[fid].reserved_kva == 500
    left = without_resources(grid, [f"feeder:{fid}"])
    assert all(p.feeder != fid for p in left.points)
    assert len(left.points) < len(grid.points)


def test_the_reviewers_decide_where_the_engine_could_not() -> None:
    record, request = hv_plan(centre_point(), important=True)
    assert record.plan is not None and record.plan.needs_joint_review
    grid = demo_grid(UNIT)
    point = next(p for p in grid.points if p.voltage == "10kV" and not p.restricted)
    decision = JointReviewDecision(
        reviewers=["e1"], connection_point=point.id, supporting_works="cable_line",
        admin_approval_required=False, note="会审",
    )  # fmt: skip
    policy = load_policy(UNIT)
    out = reviewed(record.plan, decision, grid, policy, 1.3, request.location)
    assert not out.needs_joint_review
    assert [s.connection_point.id for s in out.power_sources] == [point.id]
    assert out.supporting_works is not None and out.supporting_works.type == "cable_line"
    assert out.admin_approval.required is False
    assert {d.field for d in out.decisions if "joint review" in d.source} == {
        "connection_point",
        "supporting_works",
        "admin_approval.required",
    }
    with pytest.raises(ReviewError) as exc:
        reviewed(record.plan, decision.model_copy(update={"connection_point": "NOPE"}), grid,
                 policy, 1.3, request.location)  # fmt: skip
    assert exc.value.field == "connection_point"
    none = reviewed(record.plan, JointReviewDecision(reviewers=["e1"], supporting_works="none"),
                    grid, policy, 1.3, request.location)  # fmt: skip
    assert none.supporting_works is None and not none.needs_joint_review
