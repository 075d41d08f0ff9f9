"""Coordination notices in ConnectionApplication on the time-skipping server: issued at the
pack's events to the pack's departments, answered, the late department chased alone at 24
working hours across a weekend, a rejection issued again in a new round with a fresh clock, and
open notices withdrawn when the application is cancelled."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.coordination import IssueNoticesRequest
from readmodel.coordination import list_notices
from readmodel.demo_org import seed_demo_org
from readmodel.outbox import OutboxRow
from tests.notice_scenarios import (
    DUE_2026,
    FRIDAY_2026,
    hv_notice_rejected_reissued,
    hv_notices_answered,
)
from tests.scenarios import Driver, application, shifted_start
from tests.support import new_application_no
from workflows.connection_application import ConnectionApplication

DEV, OPS, DSP = "13800000031", "13800000021", "13800000041"


@pytest.fixture
def org(session_engine: Engine) -> Engine:
    seed_demo_org(session_engine)
    return session_engine


def near(a: datetime, b: datetime) -> bool:
    """The workflow acts a moment after the instant a test moves the server to."""
    return abs(a - b) < timedelta(minutes=1)


def outbox(engine: Engine, no: str) -> list[OutboxRow]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxRow).where(OutboxRow.application_no == no)).all())


async def test_a_10kv_lifecycle_issues_and_answers_its_notices(
    ts_env: WorkflowEnvironment, ts_worker: Worker, org: Engine
) -> None:
    no = new_application_no()
    d = await hv_notices_answered(ts_env, ts_worker.task_queue, no)
    issued = d.seen["issued"]
    accepted_at = d.start.application.profile.accepted_at
    assert sorted(n.department for n in issued) == ["development", "dispatch", "operations"]
    assert {(n.round, n.state) for n in issued} == {(1, "open")}
    assert all(near(n.issued_at, accepted_at) for n in issued)
    # Henan's 24 working hours from Friday 10:00, across the weekend: the end of Monday.
    shift = accepted_at - FRIDAY_2026
    assert {n.due_at for n in issued} == {DUE_2026 + shift}
    assert [n.department for n in d.seen["drawing"]] == ["operations"]
    assert sorted(n.department for n in d.seen["acceptance"]) == ["dispatch", "operations"]

    monday = [w.level for w in d.seen["monday"].warnings if w.monitor == "notice.joint_survey"]
    assert "yellow" not in monday
    late = d.seen["late"]
    yellow = [w for w in late.warnings if w.monitor == "notice.joint_survey"]
    assert [w.level for w in yellow if w.level == "yellow"] == ["yellow"]
    assert next(w for w in yellow if w.level == "yellow").due_at == DUE_2026 + shift
    agreed = d.seen["agreed"]
    events = [e.event for e in agreed.events]
    assert events.count("joint_survey.started") == 1 and "joint_survey.completed" in events
    survey = next(m for m in agreed.monitors if m.code == "joint_survey")
    assert survey.state != "running"

    final = d.seen["final"]
    states = {(n.kind, n.department): n.state for n in final.notices}
    assert states[("joint_survey", "development")] == "answered"
    assert states[("joint_drawing_review", "operations")] == "answered"
    assert states[("joint_acceptance", "dispatch")] == "withdrawn"
    # The read model holds the same notices, and nothing went backwards.
    rows = {(n.kind, n.department): n.state for n in list_notices(org, application=no)}
    assert rows == states
    # The coordinators were told of each notice; only the late department heard of its yellow.
    sent = outbox(org, no)
    issued_to = {r.phone for r in sent if r.kind == "notice" and r.level == "issued"}
    assert {DEV, OPS, DSP} <= issued_to
    yellow_to = {
        r.phone for r in sent if r.monitor == "notice.joint_survey" and r.level == "yellow"
    }
    assert DEV in yellow_to and not {OPS, DSP} & yellow_to


async def test_a_rejected_notice_is_issued_again_with_a_fresh_clock(
    ts_env: WorkflowEnvironment, ts_worker: Worker, org: Engine
) -> None:
    no = new_application_no()
    d = await hv_notice_rejected_reissued(ts_env, ts_worker.task_queue, no)
    rejected = d.seen["rejected"]
    assert (rejected.state, rejected.result, rejected.opinion) == (
        "rejected",
        "rejected",
        "缺少规划红线图",
    )
    again = d.seen["reissued"]
    assert [(n.department, n.round, n.state) for n in again] == [("development", 2, "open")]
    accepted_at = d.start.application.profile.accepted_at
    assert near(again[0].issued_at, accepted_at + timedelta(hours=6))
    final = d.seen["final"]
    starts = [e.at for e in final.events if e.event == "joint_survey.started"]
    assert len(starts) == 2 and near(starts[0], accepted_at)
    assert near(starts[1], accepted_at + timedelta(hours=6))
    survey = next(m for m in final.monitors if m.code == "joint_survey")
    assert survey.started_at == starts[1]
    assert any(e.event == "joint_survey.completed" for e in final.events)
    # The customer manager heard of the rejection, with the department's opinion.
    back = [r for r in outbox(org, no) if r.level == "rejected"]
    assert back and all(
        "缺少规划红线图" in r.message and r.role == "customer_manager" for r in back
    )


async def test_issuing_by_hand_refuses_a_kind_without_a_limit_and_repeats_nothing(
    ts_env: WorkflowEnvironment, ts_worker: Worker, org: Engine
) -> None:
    _shift, cal, t0 = await shifted_start(ts_env)
    no = new_application_no()
    d = await Driver.begin(ts_env, ts_worker.task_queue, application(no, t0), cal)
    bad = IssueNoticesRequest(kind="protection_setting", departments=["dispatch"])
    with pytest.raises(WorkflowUpdateFailedError):
        await d.handle.execute_update(ConnectionApplication.issue_notices, bad)
    # The same departments again: the open round as it is, nothing issued twice.
    same = IssueNoticesRequest(kind="joint_survey", departments=["operations"])
    out = await d.handle.execute_update(ConnectionApplication.issue_notices, same)
    assert sorted((n.department, n.round) for n in out) == [
        ("development", 1),
        ("dispatch", 1),
        ("operations", 1),
    ]
    # Staff recording the start by hand repeat the notices' start.
    await d.event("joint_survey.started", t0 + timedelta(hours=1))
    events = [e.event for e in (await d.status()).events]
    assert events.count("joint_survey.started") == 1
    await d.handle.terminate()
