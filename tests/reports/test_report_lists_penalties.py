"""The lists to act on, the warnings by level, unit and stage, and Huangchuan's penalty table,
against figures worked out by hand from scenario data."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from api import report_builder as rb
from api.report_context import PackPolicies
from domain.reports.lists import ListKind
from domain.reports.models import ListsReport, PenaltyReport
from tests.reports.scenario import Scenario, t

HC, SMX, SH, YT = "henan/xinyang/huangchuan", "henan/sanmenxia", "shanghai", "shandong/yantai"
ALL_LISTS: list[ListKind] = ["too_short", "late_appointment", "overlong_pending"]
NOW = t("2026-12-15 00:00")


@pytest.fixture
def data(db_engine: Engine) -> Engine:
    pending_scenario(db_engine)
    return db_engine


def pending_scenario(engine: Engine) -> None:
    sc = Scenario(engine)
    app, warn = sc.application, sc.warning
    # Overdue orders: H1 passes a limit in November (yellow, then red: one order), H2 in
    # October. H3 (10 kV) is flagged too short in November; H4 too, but low-voltage
    # too-short orders are not fined.
    app("H1", HC, "hv", "10kV", "2026-10-26 09:00", state="running", stage="plan_reply")
    warn("H1", "hv.plan_reply", "plan_reply", "yellow", "2026-11-05 10:00")
    warn("H1", "hv.plan_reply", "plan_reply", "red", "2026-11-20 10:00")
    app("H2", HC, "lv_residential", "220V", "2026-10-28 09:00")
    warn("H2", "lv.full_process.no_grid", "full_process", "yellow", "2026-10-30 09:00")
    app("H3", HC, "hv", "10kV", "2026-11-02 09:00", events=[("too_short", "2026-11-10 12:00")])
    app("H4", HC, "lv_residential", "220V", "2026-11-02 09:00",
        events=[("too_short", "2026-11-11 12:00")])  # fmt: skip
    # Appointments: H5's, made the evening before, is confirmed the next morning (due at
    # midnight: 9 hours late); H6's the same day. Shanghai's pack has no appointment rule.
    app("H5", HC, "lv_residential", "220V", "2026-11-03 10:00", events=[
        ("appointment_confirm.started", "2026-11-02 20:00"),
        ("appointment_confirm.completed", "2026-11-03 09:00"),
    ])  # fmt: skip
    app("H6", HC, "lv_residential", "220V", "2026-11-04 09:00", events=[
        ("appointment_confirm.started", "2026-11-04 08:00"),
        ("appointment_confirm.completed", "2026-11-04 17:00"),
    ])  # fmt: skip
    app("SH1", SH, "lv_small_micro", "380V", "2026-11-03 10:00", events=[
        ("appointment_confirm.started", "2026-11-02 20:00"),
        ("appointment_confirm.completed", "2026-11-03 09:00"),
    ])  # fmt: skip
    # H7 has been in flight since 2025-10-01: its over-one-year rule fired on 2026-10-01 (a
    # yellow the overdue row leaves to the over-one-year row).
    app("H7", HC, "hv", "10kV", "2025-10-01 09:00", state="running", stage="customer_works")
    warn("H7", "new_service.overlong_pending", "full_process", "yellow", "2026-10-01 09:00")
    # H8's yellow is an appointment's (left to the appointment row), H9's only blue.
    app("H8", HC, "hv", "10kV", "2026-11-05 09:00")
    warn("H8", "hv.appointment_confirm", "appointment_confirm", "yellow", "2026-11-06 10:00")
    app("H9", HC, "hv", "10kV", "2026-11-05 09:00")
    warn("H9", "hv.plan_reply", "plan_reply", "blue", "2026-11-09 10:00", open_=True)
    # Pending at the end of November: P1 (380 days), not P2 (361), nor those closed before.
    app("P1", SMX, "lv_residential", "220V", "2025-11-15 09:00", state="running")
    app("P2", SMX, "lv_residential", "220V", "2025-12-05 09:00", state="running")
    app("P3", SMX, "lv_residential", "220V", "2025-06-01 09:00",
        events=[("archive.completed", "2026-09-01 09:00")])  # fmt: skip
    app("P4", SMX, "lv_residential", "220V", "2025-06-01 09:00", state="cancelled",
        events=[("cancelled", "2026-11-20 09:00")])  # fmt: skip
    app("Y1", YT, "lv_non_residential", "380V", "2026-11-02 09:00")
    warn("Y1", "lv_enterprise.accept", "accept", "blue", "2026-11-02 20:00")


def lists(engine: Engine, unit: str | None = None, **kw: object) -> ListsReport:
    policies = PackPolicies()
    scope = rb.scope(policies, unit, date(2026, 10, 1), date(2026, 11, 30))
    args = {"kinds": ALL_LISTS, "offset": 0, "limit": 100, **kw}
    with engine.connect() as conn:
        return rb.lists(conn, policies, scope, NOW, **args)  # type: ignore[arg-type]


def test_lists_by_hand(data: Engine) -> None:
    r = lists(data)
    assert r.as_of.isoformat() == "2026-12-01T00:00:00+08:00"
    assert (r.counts.too_short, r.counts.late_appointment, r.counts.overlong_pending) == (2, 1, 2)
    assert [(i.list, i.application_no) for i in r.items] == [
        ("too_short", "H3"),
        ("too_short", "H4"),
        ("late_appointment", "H5"),
        ("overlong_pending", "H7"),
        ("overlong_pending", "P1"),
    ]
    short, _, late, h7, p1 = r.items
    assert short.at.isoformat() == "2026-11-10T12:00:00+08:00"
    assert "hv.completion_inspection" in short.detail
    assert (short.business_type, short.voltage, short.customer_manager) == ("hv", "10kV", "cm-001")
    assert late.at.isoformat() == "2026-11-03T09:00:00+08:00"
    assert late.due_at is not None and late.due_at.isoformat() == "2026-11-03T00:00:00+08:00"
    assert late.detail == "预约确认超期 9.0 小时 (lv.appointment_confirm)"
    assert (h7.detail, p1.detail) == ("在途 425 天", "在途 380 天")
    assert h7.stage == "customer_works" and h7.state == "running"


def test_lists_page_and_select(data: Engine) -> None:
    page = lists(data, offset=1, limit=2)
    assert page.total == 5
    assert [i.application_no for i in page.items] == ["H4", "H5"]
    only = lists(data, kinds=["overlong_pending"])
    assert [i.application_no for i in only.items] == ["H7", "P1"]
    assert only.counts.too_short == 0
    assert [i.application_no for i in lists(data, HC).items if i.list == "overlong_pending"] == [
        "H7"
    ]


def penalties(engine: Engine, first: date, last: date, unit: str | None = None) -> PenaltyReport:
    policies = PackPolicies()
    with engine.connect() as conn:
        return rb.penalties(conn, policies, rb.scope(policies, unit, first, last))


def test_huangchuan_penalties_per_unit_and_month_by_hand(data: Engine) -> None:
    r = penalties(data, date(2026, 10, 1), date(2026, 11, 30))
    (table,) = r.tables
    assert table.units == [HC] and table.currency == "CNY"
    got = [
        (x.month, x.no, x.orders, x.amount, x.leadership, x.rest, x.application_nos)
        for x in table.lines
    ]
    assert got == [
        ("2026-10", "二.3", 1, 30000, 10000, 20000, ["H2"]),
        ("2026-10", "二.7", 1, 20000, 5000, 15000, ["H7"]),
        ("2026-11", "二.3", 2, 60000, 20000, 40000, ["H1", "H3"]),
        ("2026-11", "二.4", 1, 5000, 2000, 3000, ["H5"]),
    ]
    totals = [(x.month, x.orders, x.amount, x.leadership, x.rest) for x in table.totals]
    assert totals == [("2026-10", 2, 50000, 15000, 35000), ("2026-11", 3, 65000, 22000, 43000)]
    # The rows the system cannot see are listed for manual entry, with their amounts.
    manual = {x.no: x for x in table.not_detected}
    assert manual["一.1"].amount == 50000 and "二.3" not in manual
    # November alone: H1 first passed a limit in November, H2 in October.
    nov = penalties(data, date(2026, 11, 1), date(2026, 11, 30)).tables[0]
    assert [(x.month, x.no, x.orders) for x in nov.lines] == [
        ("2026-11", "二.3", 2),
        ("2026-11", "二.4", 1),
    ]


def test_no_penalty_table_outside_huangchuan(data: Engine) -> None:
    assert penalties(data, date(2026, 10, 1), date(2026, 11, 30), SMX).tables == []


def test_events_before_the_table_came_into_force_are_not_fined(db_engine: Engine) -> None:
    sc = Scenario(db_engine)
    sc.application("H10", HC, "hv", "10kV", "2021-09-01 09:00")
    sc.warning("H10", "hv.plan_reply", "plan_reply", "yellow", "2021-10-01 10:00")
    sc.application("H11", HC, "hv", "10kV", "2021-09-01 09:00")
    sc.warning("H11", "hv.plan_reply", "plan_reply", "yellow", "2021-12-01 10:00")
    (table,) = penalties(db_engine, date(2021, 1, 1), date(2021, 12, 31)).tables
    assert table.effective_from == "2021-11-26"
    assert [(x.month, x.application_nos) for x in table.lines] == [("2021-12", ["H11"])]


def test_warnings_by_level_unit_and_stage(data: Engine) -> None:
    policies = PackPolicies()
    scope = rb.scope(policies, None, date(2026, 10, 1), date(2026, 11, 30))
    with data.connect() as conn:
        r = rb.warnings(conn, scope)
    assert [(w.level, w.unit, w.stage, w.raised, w.open) for w in r.items] == [
        ("blue", HC, "plan_reply", 1, 1),
        ("blue", YT, "accept", 1, 0),
        ("yellow", HC, "appointment_confirm", 1, 0),
        ("yellow", HC, "plan_reply", 1, 0),
        ("yellow", HC, "full_process", 2, 0),
        ("red", HC, "plan_reply", 1, 0),
    ]
    assert [(x.key, x.raised, x.open) for x in r.totals.by_level] == [
        ("blue", 2, 1),
        ("yellow", 4, 0),
        ("red", 1, 0),
    ]
    assert [(x.key, x.label, x.raised) for x in r.totals.by_unit] == [
        (HC, "潢川", 6),
        (YT, "烟台", 1),
    ]
    assert [x.key for x in r.totals.by_stage] == [
        "appointment_confirm",
        "accept",
        "plan_reply",
        "full_process",
    ]
    assert r.items[0].level_label == "蓝色预警"
