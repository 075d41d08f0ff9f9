"""The projection writes the report facts: the connection from the timeline of each change
(in any order, any number of times), the verdicts and the monitor outcomes at the close, as
the workflow's final status has them; and the reports read them back."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, delete, func, select

from activities.projection import ProjectionActivities
from api import report_builder as rb
from api.report_context import PackPolicies
from bench.report_data import live
from contracts.application import ApplicationInput, ApplicationProfile, Customer, ProjectionInput
from policies.codes import FULL_PROCESS
from readmodel.projection import ProjectionWriter
from readmodel.report_facts import FULL_PROCESS as FACTS_FULL_PROCESS
from readmodel.report_facts import ReportApplicationRow, ReportMonitorRow
from readmodel.report_facts_writer import backfill, seconds
from tests.reports.scenario import t

FACTS = ReportApplicationRow.__table__  # type: ignore[attr-defined]
MONITORS = ReportMonitorRow.__table__  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def lived() -> ProjectionInput:
    """A Shanghai 10 kV application lived through by the application book, to its archive:
    meter installed Wed 10-21 17:00, energised Fri 10-23 10:00."""
    inp = ApplicationInput(
        application_no="F-0001",
        profile=ApplicationProfile(
            unit="shanghai",
            business_type="hv",
            voltage="10kV",
            capacity_kva=630,
            accepted_at=t("2026-09-21 10:00"),
        ),
        customer=Customer(name="测试客户", phone="13800000000"),
        customer_manager="cm-001",
    )
    events = [
        ("site_survey.started", "2026-09-22 09:00"),
        ("site_survey.completed", "2026-09-22 12:00"),
        ("plan_reply.completed", "2026-09-29 10:00"),
        ("customer_works.started", "2026-09-30 09:00"),
        ("customer_works.completed", "2026-10-20 09:00"),
        ("completion_inspection.started", "2026-10-21 09:00"),
        ("completion_inspection.completed", "2026-10-21 15:00"),
        ("contract.completed", "2026-10-21 16:00"),
        ("meter_install.completed", "2026-10-21 17:00"),
        ("dispatch_agreement.completed", "2026-10-22 09:00"),
        ("energize.completed", "2026-10-23 10:00"),
        ("archive.started", "2026-10-26 09:00"),
        ("archive.completed", "2026-10-26 15:00"),
    ]
    return live(inp, [(e, t(at)) for e, at in events])


def facts(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(conn.execute(select(FACTS)).mappings().one())


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(MONITORS)).scalar_one())


def test_the_close_writes_what_the_final_status_says(
    db_engine: Engine, lived: ProjectionInput
) -> None:
    final = lived.final_status
    assert final is not None and final.state == "completed"
    projection = ProjectionActivities(db_engine)
    projection.project_application(lived)
    row = facts(db_engine)
    assert row["connected_s"] == row["energized_s"] == seconds(t("2026-10-23 10:00"))
    assert row["installed_s"] == seconds(t("2026-10-21 17:00"))
    assert (row["state"], row["unit"], row["business_type"]) == ("completed", "shanghai", "hv")
    whole = [m for m in final.monitors if m.code == "full_process" and m.stopped_at]
    assert row["full_process_judged"] == len(whole) > 0
    national = [
        int(m.stopped_at <= m.national_due_at)
        for m in whole
        if m.stopped_at is not None and m.national_due_at is not None
    ]
    assert row["kept_national"] == (min(national) if national else None)
    started = [m for m in final.monitors if m.started_at is not None]
    assert count(db_engine) == len(started)
    with db_engine.connect() as conn:
        plan = (
            conn.execute(select(MONITORS).where(MONITORS.c.monitor == "hv.plan_reply"))
            .mappings()
            .one()
        )
    m = next(x for x in final.monitors if x.id == "hv.plan_reply")
    assert plan["stopped_s"] == seconds(t("2026-09-29 10:00"))
    assert m.elapsed is not None and plan["elapsed_s"] == round(m.elapsed.seconds)
    assert m.stopped_at is not None
    assert plan["kept_provincial"] == (
        None if m.provincial_due_at is None else int(m.stopped_at <= m.provincial_due_at)
    )
    # Written once: the same close again changes nothing.
    projection.project_application(lived)
    assert count(db_engine) == len(started) and facts(db_engine) == row


def test_the_connection_keeps_the_latest_whatever_the_order(
    db_engine: Engine, lived: ProjectionInput
) -> None:
    projection = ProjectionActivities(db_engine)
    entries = lived.timeline
    installed = [e for e in entries if e.event == "meter_install.completed"]
    energized = [e for e in entries if e.event == "energize.completed"]
    running = {"final_status": None, "state": "running"}
    first = lived.model_copy(update={**running, "timeline": installed, "timeline_offset": 0})
    later = lived.model_copy(update={**running, "timeline": energized, "timeline_offset": 1})
    projection.project_application(later)
    projection.project_application(first)  # an older change arriving late
    row = facts(db_engine)
    assert row["connected_s"] == seconds(t("2026-10-23 10:00"))
    assert row["installed_s"] == seconds(t("2026-10-21 17:00"))
    assert row["state"] is None and row["kept_national"] is None  # not closed: not judged
    # A change with no connection in it writes no facts at all.
    with db_engine.begin() as conn:
        conn.execute(delete(FACTS))
    projection.project_application(lived.model_copy(update={**running, "timeline": entries[:2]}))
    with db_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FACTS)).scalar_one() == 0


def test_a_repair_through_the_projections_write_writes_the_facts(
    db_engine: Engine, lived: ProjectionInput
) -> None:
    """Reconciliation repairs a row through the read model's write, without the activity:
    the facts come with it, as the activity would have written them."""
    ProjectionActivities(db_engine).project_application(lived)
    expected, monitors = facts(db_engine), count(db_engine)
    with db_engine.begin() as conn:
        conn.execute(delete(FACTS))
        conn.execute(delete(MONITORS))
    ProjectionWriter(db_engine).write(lived)
    assert facts(db_engine) == expected and count(db_engine) == monitors > 0


def test_the_facts_name_the_whole_process_code_as_the_policies_do() -> None:
    assert FACTS_FULL_PROCESS == FULL_PROCESS


def test_backfill_writes_the_facts_of_applications_closed_before(
    db_engine: Engine, lived: ProjectionInput
) -> None:
    ProjectionActivities(db_engine).project_application(lived)
    expected = facts(db_engine)
    monitors = count(db_engine)
    with db_engine.begin() as conn:
        conn.execute(delete(FACTS))
        conn.execute(delete(MONITORS))
    assert backfill(db_engine) == 1
    assert facts(db_engine) == expected and count(db_engine) == monitors
    assert backfill(db_engine) == 0


def test_the_report_reads_the_lived_application(db_engine: Engine, lived: ProjectionInput) -> None:
    ProjectionActivities(db_engine).project_application(lived)
    policies = PackPolicies()
    scope = rb.scope(policies, "shanghai", date(2026, 10, 1), date(2026, 10, 31))
    with db_engine.connect() as conn:
        (row,) = rb.connection_time(conn, policies, scope, "month").rows
        stages = rb.stage_times(conn, policies, scope, "month").rows
    # 09-21 10:00 → 10-23 10:00: 32 days. Working: Mon 14 h; 09-22..09-30 less Mid-Autumn
    # Friday and the weekend (6 days); National Day off; 10-08..10-22 less Sunday 10-11 and
    # the weekend 10-17/18, with the make-up Saturday 10-10 (12 days); Fri 10 h: 456 h.
    assert row.period == "2026-10" and row.calendar_days.mean == 32.0
    assert row.working_days.mean == (14 + 6 * 24 + 12 * 24 + 10) / 24 == 19.0
    assert row.judged == 1
    # The stages that stopped in October, each timed by its rules (plan reply stopped in
    # September: not there).
    assert "completion_inspection" in {s.stage for s in stages}
    assert "plan_reply" not in {s.stage for s in stages}
