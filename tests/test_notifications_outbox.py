"""Recipients and the outbox: who receives each level, exactly one row per phone, undeliverable
roles recorded, progress messages with their templates and the missing-phone guard."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from activities.changes import ChangeActivities
from activities.notifications import NotificationActivities
from activities.projection import ProjectionActivities
from contracts.application import (
    ApplicationProfile,
    ChangeInput,
    Customer,
    ProgressNotice,
    ProjectionInput,
    WarningNotice,
)
from policies.loader import load_policy
from readmodel.applications import ApplicationRow
from readmodel.demo_org import seed_demo_org
from readmodel.organisation import StaffRow
from readmodel.outbox import OutboxBase, OutboxRow, UndeliverableRow
from readmodel.outbox_queue import OutboxQueue

TZ = ZoneInfo("Asia/Shanghai")
HENAN = load_policy("henan/sanmenxia").recipient_profiles["new_service"]


@pytest.fixture
def org_engine(any_engine: Engine) -> Engine:
    """The demo organisation, on SQLite and on PostgreSQL."""
    seed_demo_org(any_engine)
    return any_engine


def roles_for(level: str, coordination: bool = False) -> list[str]:
    lvl = HENAN.for_level(level)
    assert lvl is not None
    roles = list(lvl.roles)
    if coordination:
        roles += [r for r in lvl.coordination_roles if r not in roles]
    return roles


def notice(
    level: str,
    *,
    unit: str = "henan/sanmenxia",
    monitor: str = "hv.plan_reply",
    code: str = "plan_reply",
    coordination: bool = False,
    cm: str | None = "cm-001",
    raised_at: datetime = datetime(2026, 9, 22, 10, 0, tzinfo=TZ),
    roles: list[str] | None = None,
) -> WarningNotice:
    return WarningNotice(
        application_no="A20260922TEST",
        unit=unit,
        business_type="hv",
        voltage="10kV",
        customer_manager=cm,
        monitor=monitor,
        code=code,
        level=level,  # type: ignore[arg-type]
        due_at=raised_at,
        raised_at=raised_at,
        roles=roles if roles is not None else roles_for(level, coordination),
        coordination=coordination,
        result="assess",
    )


def rows(engine: Engine) -> list[OutboxRow]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxRow).order_by(OutboxRow.id)).all())  # type: ignore[arg-type]


def missing(engine: Engine) -> list[UndeliverableRow]:
    with Session(engine) as s:
        return list(s.exec(select(UndeliverableRow)).all())


EXPECTED_STAFF = {
    "blue": {"cm-001", "cs-smx"},
    "yellow": {"cm-001", "cs-smx", "mdd-smx", "md-smx", "ex-smx"},
    "orange": {"cm-001", "cs-smx", "mdd-smx", "md-smx"},
    "red": {"cm-001", "cs-smx", "mdd-smx", "md-smx", "ex-smx"},
}


@pytest.mark.parametrize("level", ["blue", "yellow", "orange", "red"])
def test_each_level_reaches_the_documents_recipients(org_engine: Engine, level: str) -> None:
    acts = NotificationActivities(org_engine)
    assert acts.enqueue_warning(notice(level)) == len(EXPECTED_STAFF[level])
    got = rows(org_engine)
    assert {r.staff_code for r in got} == EXPECTED_STAFF[level]
    assert {r.state for r in got} == {"pending"}
    assert all(r.level == level and r.monitor == "hv.plan_reply" for r in got)
    assert missing(org_engine) == []
    msg = got[0].message
    assert "A20260922TEST" in msg and "供电方案编审及答复" in msg and "预警" in msg


def test_second_enqueue_inserts_nothing(org_engine: Engine) -> None:
    acts = NotificationActivities(org_engine)
    first = acts.enqueue_warning(notice("red"))
    assert first == 5
    assert acts.enqueue_warning(notice("red")) == 0
    # A fresh activity instance (another worker) against the same database: still nothing.
    assert NotificationActivities(org_engine).enqueue_warning(notice("red")) == 0
    assert len(rows(org_engine)) == 5


def test_one_row_per_phone_when_a_person_holds_several_roles(org_engine: Engine) -> None:
    # Huangchuan: cs-hc is both connection specialist and deputy director; md-hc is director
    # and executive. Yellow names all four roles: two phones, not four rows.
    acts = NotificationActivities(org_engine)
    n = notice("yellow", unit="henan/xinyang/huangchuan", cm="cm-201")
    assert acts.enqueue_warning(n) == 3
    by_code = {r.staff_code: r for r in rows(org_engine)}
    assert by_code["cs-hc"].roles == ["connection_specialist", "marketing_deputy_director"]
    assert by_code["cs-hc"].role == "connection_specialist"
    assert by_code["md-hc"].roles == ["marketing_director", "executive"]


def test_county_without_directors_walks_up_to_the_city(org_engine: Engine) -> None:
    acts = NotificationActivities(org_engine)
    acts.enqueue_warning(notice("red", unit="henan/sanmenxia/lingbao", cm="cm-101"))
    # Lingbao's own specialist, not the city's; the city's directors and executive.
    assert {r.staff_code for r in rows(org_engine)} == {
        "cm-101",
        "cs-lb",
        "mdd-smx",
        "md-smx",
        "ex-smx",
    }


def test_a_station_walks_up_two_levels(org_engine: Engine) -> None:
    acts = NotificationActivities(org_engine)
    acts.enqueue_warning(notice("blue", unit="henan/sanmenxia/lingbao/yinzhuang", cm="cm-101"))
    assert {r.staff_code for r in rows(org_engine)} == {"cm-101", "cs-lb"}


def test_coordination_notice_reaches_the_departments_chain_and_the_province(
    org_engine: Engine,
) -> None:
    acts = NotificationActivities(org_engine)
    n = notice("red", monitor="notice.joint_survey", code="joint_survey", coordination=True)
    acts.enqueue_warning(n)
    got = {r.staff_code for r in rows(org_engine)}
    # 联合勘查: development and operations (docs/notifications.md).
    assert got == EXPECTED_STAFF["red"] | {
        "co-dev-smx",
        "ddd-dev-smx",
        "dd-dev-smx",
        "de-dev-smx",
        "co-ops-smx",
        "ddd-ops-smx",
        "dd-ops-smx",
        "de-ops-smx",
        "pdh-dev",
        "pdh-ops",
    }
    assert missing(org_engine) == []
    assert "协同事项" in rows(org_engine)[0].message


def test_orange_coordination_adds_only_the_handler(org_engine: Engine) -> None:
    acts = NotificationActivities(org_engine)
    acts.enqueue_warning(
        notice("orange", monitor="hv.grid_works", code="grid_works", coordination=True)
    )
    assert {r.staff_code for r in rows(org_engine)} == EXPECTED_STAFF["orange"] | {"co-con-smx"}


def test_a_role_nobody_holds_is_recorded_not_dropped(org_engine: Engine) -> None:
    with Session(org_engine) as s:
        for person in s.exec(select(StaffRow).where(StaffRow.code == "ex-smx")).all():
            person.active = False
        s.commit()
    acts = NotificationActivities(org_engine)
    assert acts.enqueue_warning(notice("red", cm="cm-404")) == 3
    gaps = {(m.role, m.reason) for m in missing(org_engine)}
    assert ("executive", "nobody holds it in henan/sanmenxia or above") in gaps
    assert ("customer_manager", "customer manager cm-404 is not active staff") in gaps
    # Recorded once, whatever the retries do.
    acts.enqueue_warning(notice("red", cm="cm-404"))
    assert len(missing(org_engine)) == 2


def test_missing_customer_manager_and_unknown_department_are_recorded(org_engine: Engine) -> None:
    acts = NotificationActivities(org_engine)
    # Sanmenxia has no finance or materials staff; outage_plan coordination is dispatch.
    n = notice("yellow", cm=None, monitor="hv.outage_plan", code="outage_plan", coordination=True)
    acts.enqueue_warning(n)
    gaps = {(m.role, m.department) for m in missing(org_engine)}
    assert gaps == {("customer_manager", "")}
    codes = {r.staff_code for r in rows(org_engine)}
    assert {"co-dsp-smx", "dd-dsp-smx", "pdh-dsp"} <= codes


def test_warning_rows_wait_for_the_next_window(org_engine: Engine) -> None:
    acts = NotificationActivities(org_engine)
    # Friday 2026-09-18 22:00; Sunday 09-20 is a make-up working day (National Day 2026).
    acts.enqueue_warning(notice("blue", raised_at=datetime(2026, 9, 18, 22, tzinfo=TZ)))
    r = rows(org_engine)[0]
    assert r.send_after == datetime(2026, 9, 20, 8, 30, tzinfo=TZ)
    assert r.send_before == datetime(2026, 9, 20, 9, 0, tzinfo=TZ)
    assert r.window == "warning"


def test_appointment_warnings_use_the_appointment_times(org_engine: Engine) -> None:
    acts = NotificationActivities(org_engine)
    n = notice(
        "blue",
        monitor="hv.appointment_confirm",
        code="appointment_confirm",
        raised_at=datetime(2026, 9, 22, 10, 45, tzinfo=TZ),
    )
    acts.enqueue_warning(n)
    r = rows(org_engine)[0]
    assert r.window == "appointment"
    assert r.send_after == datetime(2026, 9, 22, 16, 30, tzinfo=TZ)


def progress(kind: str, phone: str | None, at: datetime | None = None) -> ProgressNotice:
    return ProgressNotice(
        application_no="A20260922TEST",
        unit="henan/sanmenxia",
        kind=kind,  # type: ignore[arg-type]
        at=at or datetime(2026, 9, 22, 10, 0, tzinfo=TZ),
        phone=phone,
    )


def test_progress_messages_have_their_own_templates_and_go_out_in_the_day(
    org_engine: Engine,
) -> None:
    acts = NotificationActivities(org_engine)
    assert acts.enqueue_progress(progress("accepted", "+86 138 0013 8000")) == 1
    assert acts.enqueue_progress(progress("accepted", "13800138000")) == 0
    night = datetime(2026, 9, 22, 23, 0, tzinfo=TZ)
    assert acts.enqueue_progress(progress("plan_replied", "13800138000", night)) == 1
    assert acts.enqueue_progress(progress("energized", "13800138000")) == 1
    got = {r.monitor: r for r in rows(org_engine)}
    assert set(got) == {"progress.accepted", "progress.plan_replied", "progress.energized"}
    assert got["progress.accepted"].phone == "13800138000"
    assert "受理" in got["progress.accepted"].message
    assert "供电方案" in got["progress.plan_replied"].message
    assert "送电" in got["progress.energized"].message
    # Sent as soon as the day allows: at once by day, 08:00 the next morning by night.
    assert got["progress.accepted"].send_after == datetime(2026, 9, 22, 10, 0, tzinfo=TZ)
    assert got["progress.plan_replied"].send_after == datetime(2026, 9, 23, 8, 0, tzinfo=TZ)
    assert all(r.role == "customer" for r in got.values())


@pytest.mark.parametrize(
    ("phone", "reason"),
    [(None, "no customer phone"), ("0398-2812345", "not a mainland mobile number")],
)
def test_progress_without_a_mobile_is_recorded_undeliverable(
    org_engine: Engine, phone: str | None, reason: str
) -> None:
    acts = NotificationActivities(org_engine)
    assert acts.enqueue_progress(progress("accepted", phone)) == 0
    assert rows(org_engine) == []
    [gap] = missing(org_engine)
    assert gap.role == "customer" and reason in gap.reason
    assert phone is None or phone not in gap.reason


def test_unknown_role_is_recorded(org_engine: Engine) -> None:
    acts = NotificationActivities(org_engine)
    acts.enqueue_warning(notice("blue", roles=["customer_manager", "chief_wizard"]))
    assert [(m.role, m.reason) for m in missing(org_engine)] == [
        ("chief_wizard", "unknown role code")
    ]


def test_raised_at_keeps_its_instant_across_zones(org_engine: Engine) -> None:
    acts = NotificationActivities(org_engine)
    utc_raise = datetime(2026, 9, 22, 1, 0, tzinfo=ZoneInfo("UTC"))  # 09:00 in Shanghai
    acts.enqueue_warning(notice("blue", raised_at=utc_raise))
    assert rows(org_engine)[0].send_after == datetime(2026, 9, 22, 11, 30, tzinfo=TZ)
    assert rows(org_engine)[0].send_after - utc_raise == timedelta(hours=2, minutes=30)


def test_demo_org_seeding_is_idempotent_and_keeps_edits(org_engine: Engine) -> None:
    with Session(org_engine) as s:
        person = s.exec(select(StaffRow).where(StaffRow.code == "cm-001")).one()
        person.active = False
        s.commit()
    assert seed_demo_org(org_engine) == 0
    with Session(org_engine) as s:
        assert s.exec(select(StaffRow).where(StaffRow.code == "cm-001")).one().active is False


def test_a_change_retried_after_a_partial_failure_writes_everything_once(
    org_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """record_change: the read model, then the messages; a retry after the messages failed
    halfway repeats nothing that already happened (one write per change)."""
    acts = NotificationActivities(org_engine)
    change = ChangeActivities(ProjectionActivities(org_engine), acts)
    at = datetime(2026, 9, 22, 10, 0, tzinfo=TZ)
    data = ChangeInput(
        application_no="A20260922TEST",
        projection=ProjectionInput(
            application_no="A20260922TEST",
            profile=ApplicationProfile(
                unit="henan/sanmenxia", business_type="hv", voltage="10kV", accepted_at=at
            ),
            customer=Customer(name="测试客户", phone="13800000000"),
            customer_manager="cm-001",
            state="running",
            stage="plan_reply",
            updated_at=at,
            warning_level="blue",
        ),
        warnings=[notice("blue"), notice("yellow")],
        progress=[
            ProgressNotice(
                application_no="A20260922TEST",
                unit="henan/sanmenxia",
                kind="accepted",
                at=at,
                phone="13800000000",
            )
        ],
    )
    real = acts.enqueue_warning
    calls: list[str] = []

    def second_fails(n: WarningNotice) -> int:
        calls.append(n.level)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(n)

    monkeypatch.setattr(acts, "enqueue_warning", second_fails)
    with pytest.raises(RuntimeError):
        change.record_change(data)
    first = rows(org_engine)
    assert {r.level for r in first} == {"blue"}  # the read model and blue made it
    change.record_change(data)  # the activity's retry
    change.record_change(data)  # and a replay's
    final = rows(org_engine)
    per_level = {lvl: len([r for r in final if r.level == lvl]) for lvl in ("blue", "yellow")}
    assert per_level == {
        "blue": len(EXPECTED_STAFF["blue"]),
        "yellow": len(EXPECTED_STAFF["yellow"]),
    }
    assert len([r for r in final if r.kind == "progress"]) == 1
    with Session(org_engine) as s:
        assert s.get(ApplicationRow, "A20260922TEST") is not None


def test_candidate_staff_are_the_unit_chain_and_the_named_customer_manager(
    org_engine: Engine,
) -> None:
    with Session(org_engine) as s:
        s.exec(select(StaffRow).where(StaffRow.code == "cs-smx")).one().active = False
        s.commit()
    queue = OutboxQueue(org_engine)
    codes = {p.code for p in queue.candidate_staff("henan/sanmenxia/lingbao", "cm-201")}
    assert {"cm-101", "cs-lb", "cm-001", "md-smx", "pdh-mkt", "cm-201"} <= codes
    assert "cs-smx" not in codes  # inactive
    assert not codes & {"cs-hc", "md-hc"}  # Huangchuan is not on Lingbao's chain
    without_cm = {p.code for p in queue.candidate_staff("henan/sanmenxia/lingbao", None)}
    assert without_cm == codes - {"cm-201"}


def test_an_enqueue_repeated_inserts_nothing_and_records_each_gap_once(
    org_engine: Engine,
) -> None:
    at = datetime(2026, 9, 22, 8, 30, tzinfo=TZ)
    row = OutboxBase(
        application_no="A1",
        unit="henan/sanmenxia",
        kind="warning",
        monitor="hv.plan_reply",
        level="red",
        phone="13800000001",
        role="customer_manager",
        message="m",
        send_after=at,
        send_before=at + timedelta(minutes=30),
        window="warning",
        created_at=at,
    )
    gap = UndeliverableRow(
        application_no="A1",
        unit="henan/sanmenxia",
        monitor="hv.plan_reply",
        level="red",
        role="executive",
        reason="nobody holds it",
        created_at=at,
    )
    queue = OutboxQueue(org_engine)
    assert queue.enqueue([row], [gap]) == 1
    assert queue.enqueue([row, row.model_copy(update={"phone": "13800000002"})], [gap]) == 1
    assert OutboxQueue(org_engine).enqueue([row], [gap]) == 0
    assert len(rows(org_engine)) == 2 and len(missing(org_engine)) == 1
