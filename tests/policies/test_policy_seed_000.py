"""Seed 000 (三门峡 body + 附件4, the Henan guide): its numbers, read back out of the engine.

Expected instants are worked out by hand from the calendar (weekday counting in holiday-free
weeks, or the 2026 National Day / Mid-Autumn notice), never from the pack files.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from policies.preview import PreviewResponse
from tests.policies.seed_support import CAL, MON, at, dues, mon, plus_workdays, preview_for

#: A holiday-free stretch of 2026 (no holiday between mid-October and the end of the year).


DEFAULTS: dict[str, Any] = {
    "business_type": "hv",
    "voltage": "10kV",
    "capacity_kva": 630,
    "dual_power": False,
    "important": False,
    "small_micro": False,
    "area": "urban",
    "grid_works": None,
    "channel": "counter",
}


def ask(
    unit: str = "henan", events: tuple[tuple[str, datetime], ...] = (), **body: Any
) -> PreviewResponse:
    return preview_for(unit, events, DEFAULTS, **body)


# ---------------------------------------------------------------- 10 kV table, National Day


def test_contract_example_plan_reply_across_national_day() -> None:
    """10 kV single supply, accepted Monday 2026-09-21 10:00: Mid-Autumn (Fri 25 Sep) and National
    Day (1-7 Oct) are rest days, Saturday 10 Oct is a make-up working day. Ten working days end on
    Monday 12 Oct 10:00; blue is 2 working days earlier (Fri 9 Oct), red at 11 (Tue 13 Oct)."""
    resp = ask(
        "henan/sanmenxia",
        events=(("joint_survey.started", at(2026, 9, 22, 15)),),
        accepted_at="2026-09-21T10:00:00+08:00",
    )
    assert resp.policy.unit == "henan/sanmenxia"
    assert resp.calendar.region == "CN"
    assert resp.calendar.version == CAL.version
    plan = mon(resp, "hv.plan_reply")
    assert plan.code == "plan_reply"
    assert plan.state == "running"
    assert plan.started_at == at(2026, 9, 21, 10)
    assert plan.provincial_limit is not None and plan.national_limit is not None
    assert (plan.provincial_limit.amount, plan.provincial_limit.unit) == (10, "workday")
    assert (plan.national_limit.amount, plan.national_limit.unit) == (11, "workday")
    assert dues(plan) == {
        "blue": at(2026, 10, 9, 10),
        "yellow": at(2026, 10, 12, 10),
        "orange": at(2026, 10, 12, 10),
        "red": at(2026, 10, 13, 10),
    }
    assert plan.provisional is False
    assert "000_1fb244cfb33f1f39.txt" in plan.source
    dumped = resp.model_dump(mode="json")
    assert dumped["monitors"][0]["thresholds"][0]["due_at"].endswith("+08:00")
    assert {"policy", "calendar", "monitors"} <= dumped.keys()


def test_plan_reply_dual_power_red_at_21_working_days() -> None:
    plan = mon(ask(dual_power=True), "hv.plan_reply")
    assert plan.national_limit is not None and plan.national_limit.amount == 21
    assert dues(plan)["red"] == plus_workdays(MON, 21)
    assert dues(plan)["orange"] == plus_workdays(MON, 20)
    assert dues(plan)["yellow"] == plus_workdays(MON, 10)


def test_make_up_saturday_counts_as_working_day() -> None:
    """LV without supporting works, accepted on the make-up Saturday 10 Oct 2026 09:00: two
    working days are Sat 09:00-24:00, Mon, and Tue 00:00-09:00 (Sunday rests)."""
    resp = ask(
        business_type="lv_non_residential", voltage="380V", accepted_at="2026-10-10T09:00:00+08:00"
    )
    lv = mon(resp, "lv.full_process.no_grid")
    assert dues(lv) == {
        "blue": at(2026, 10, 12, 9),
        "yellow": at(2026, 10, 13, 9),
        "orange": at(2026, 10, 13, 9),
        "red": at(2026, 10, 14, 9),
    }


def test_coordination_notice_over_national_day() -> None:
    """联合勘查通知 sent Wed 30 Sep 15:00: 24 工作时 runs 9 h on 30 Sep and 15 h on Thu 8 Oct."""
    resp = ask(
        events=(("joint_survey.started", at(2026, 9, 30, 15)),),
        accepted_at="2026-09-28T09:00:00+08:00",
    )
    n = mon(resp, "notice.joint_survey")
    assert dues(n) == {
        "blue": at(2026, 10, 8, 9),
        "yellow": at(2026, 10, 8, 15),
        "orange": at(2026, 10, 9, 11),
        "red": at(2026, 10, 9, 15),
    }
    assert n.provincial_limit is not None and n.provincial_limit.unit == "workhour"
    assert n.provincial_limit.amount == 24
    assert n.national_limit is not None and n.national_limit.unit == "workday"


@pytest.mark.parametrize(
    "notice", ["joint_survey", "joint_drawing_review", "joint_mid_inspection", "joint_acceptance"]
)
def test_every_coordination_notice_over_a_weekend(notice: str) -> None:
    fri = at(2026, 11, 20, 15)
    resp = ask(events=((f"{notice}.started", fri),))
    n = mon(resp, f"notice.{notice}")
    assert n.code == notice
    assert dues(n) == {
        "blue": at(2026, 11, 23, 9),
        "yellow": at(2026, 11, 23, 15),
        "orange": at(2026, 11, 24, 11),
        "red": at(2026, 11, 24, 15),
    }
    assert n.coordination is True
    assert "coordinator" in n.recipients["blue"]
    assert "provincial_dept_head" in n.recipients["yellow"]


@pytest.mark.parametrize("voltage", ["10kV", "35kV", "110kV"])
def test_customer_works_rows(voltage: str) -> None:
    events = (
        ("design_review.started", MON),
        ("mid_inspection.started", MON),
        ("completion_inspection.started", MON),
    )
    resp = ask(voltage=voltage, important=True, events=events)
    design = mon(resp, "hv.design_review")
    assert dues(design) == {
        "blue": plus_workdays(MON, 2),
        "yellow": plus_workdays(MON, 3),
        "orange": plus_workdays(MON, 2),
        "red": plus_workdays(MON, 3),
    }
    mid = mon(resp, "hv.mid_inspection")
    assert dues(mid) == {"orange": plus_workdays(MON, 1), "red": plus_workdays(MON, 2)}
    done = mon(resp, "hv.completion_inspection")
    assert dues(done)["yellow"] == plus_workdays(MON, 3)
    assert done.result == ("notify" if voltage == "35kV" else "assess")


def test_design_review_and_mid_inspection_only_for_important_customers() -> None:
    ids = {m.id for m in ask().monitors}
    assert "hv.design_review" not in ids and "hv.mid_inspection" not in ids
    ids = {m.id for m in ask(important=True).monitors}
    assert {"hv.design_review", "hv.mid_inspection"} <= ids


def test_dispatch_agreement_has_no_national_limit() -> None:
    resp = ask(events=(("meter_install.completed", MON),))
    d = mon(resp, "hv.dispatch_agreement")
    assert d.national_limit is None
    assert dues(d) == {"blue": plus_workdays(MON, 2), "yellow": plus_workdays(MON, 3)}
    assert (
        mon(
            ask(voltage="35kV", events=(("meter_install.completed", MON),)), "hv.dispatch_agreement"
        ).result
        == "notify"
    )


def test_outage_plan_feedback_as_written() -> None:
    """Provincial 5 working days with no blue/yellow; orange 1 day before the national 3."""
    resp = ask(events=(("outage_plan.started", MON),))
    o = mon(resp, "hv.outage_plan")
    assert o.provincial_limit is not None and o.provincial_limit.amount == 5
    assert o.national_limit is not None and o.national_limit.amount == 3
    assert dues(o) == {"orange": plus_workdays(MON, 2), "red": plus_workdays(MON, 3)}
    assert o.provincial_due_at == plus_workdays(MON, 5)
    assert "outage_plan_feedback" in o.flags


def test_energize_starts_at_latest_of_its_events() -> None:
    events: tuple[tuple[str, datetime], ...] = (
        ("completion_inspection.completed", at(2026, 11, 16, 10)),
        ("contract.completed", at(2026, 11, 17, 10)),
    )
    e = mon(ask(events=events), "hv.energize")
    assert e.state == "pending"
    events += (("dispatch_agreement.completed", at(2026, 11, 18, 14)),)
    e = mon(ask(events=events), "hv.energize")
    assert e.state == "running"
    assert e.started_at == at(2026, 11, 18, 14)
    assert dues(e)["yellow"] == plus_workdays(at(2026, 11, 18, 14), 3)
    # A dual-supply customer also waits for the high-reliability fee.
    e = mon(ask(dual_power=True, events=events), "hv.energize")
    assert e.state == "pending"
    e = mon(
        ask(dual_power=True, events=(*events, ("fee_payment.completed", at(2026, 11, 19, 9)))),
        "hv.energize",
    )
    assert e.started_at == at(2026, 11, 19, 9)


@pytest.mark.parametrize(
    ("gw_type", "gw_voltage", "voltage", "days", "national"),
    [
        ("t_connection", "10kV", "10kV", 7, 60),
        ("overhead_line", "10kV", "10kV", 20, 60),
        ("ring_main_unit", "10kV", "10kV", 30, 60),
        ("switching_station_or_cable", "10kV", "10kV", 50, 60),
        ("substation_bay", "10kV", "10kV", 60, 60),
        ("substation_bay", "35kV", "35kV", 60, None),
        ("overhead_line", "35kV", "35kV", 90, None),
        ("cable_line", "35kV", "35kV", 120, None),
        ("substation_bay", "110kV", "110kV", 90, None),
        ("overhead_line", "110kV", "110kV", 120, None),
        ("cable_line", "110kV", "110kV", 180, None),
    ],
)
def test_supporting_works_limits(
    gw_type: str, gw_voltage: str, voltage: str, days: int, national: int | None
) -> None:
    resp = ask(
        voltage=voltage,
        grid_works={"type": gw_type, "voltage": gw_voltage},
        events=(("plan_reply.completed", MON),),
    )
    g = mon(resp, "hv.grid_works")
    assert g.provincial_limit is not None and g.provincial_limit.amount == days
    levels = [t.level for t in g.thresholds]
    if national is None:
        assert g.national_limit is None
        assert levels == ["blue", "yellow"]
    else:
        assert g.national_limit is not None and g.national_limit.amount == national
        assert levels == ["blue", "yellow", "orange", "red"]
    if days <= 30:
        assert dues(g)["yellow"] == plus_workdays(MON, days)
        assert dues(g)["blue"] == plus_workdays(MON, days - 2)
        assert g.provisional is (national is not None)


def test_hv_full_process_excludes_grid_works_time() -> None:
    base = mon(ask(), "hv.full_process")
    assert base.provincial_limit is not None and base.provincial_limit.amount == 16
    assert dues(base)["yellow"] == plus_workdays(MON, 16)
    events = (
        ("plan_reply.completed", at(2026, 11, 17, 9)),
        ("grid_works.started", at(2026, 11, 18, 9)),
        ("grid_works.completed", at(2026, 11, 25, 9)),
    )
    paused = mon(
        ask(grid_works={"type": "t_connection", "voltage": "10kV"}, events=events),
        "hv.full_process",
    )
    assert dues(paused)["yellow"] == plus_workdays(MON, 16 + 5)
    assert dues(paused)["blue"] == plus_workdays(MON, 14 + 5)
    assert [p.kind for p in paused.pauses] == ["policy"]
    assert paused.elapsed is not None and paused.elapsed.amount == 2.0


def test_sanmenxia_important_customers_get_21_working_days() -> None:
    plain = mon(ask("henan/sanmenxia"), "hv.full_process")
    important = mon(ask("henan/sanmenxia", important=True), "hv.full_process")
    assert plain.provincial_limit is not None and plain.provincial_limit.amount == 16
    assert important.provincial_limit is not None and important.provincial_limit.amount == 21
    assert dues(important)["yellow"] == plus_workdays(MON, 21)
    assert any("21" in s for s in important.sources)


# ---------------------------------------------------------------- low voltage, appointments


@pytest.mark.parametrize(
    ("business_type", "extra", "rule", "prov", "nat"),
    [
        ("lv_residential", {}, "lv.full_process.no_grid", 2, 3),
        ("lv_non_residential", {"grid_works": {"type": "lv"}}, "lv.full_process.with_grid", 5, 6),
        ("lv_small_micro", {}, "lv_small_micro.full_process", 15, 25),
        ("lv_non_residential", {"small_micro": True}, "lv_small_micro.full_process", 15, 25),
    ],
)
def test_low_voltage_whole_process(
    business_type: str, extra: dict[str, Any], rule: str, prov: int, nat: int
) -> None:
    resp = ask(business_type=business_type, voltage="380V", **extra)
    m = mon(resp, rule)
    assert m.code == "full_process"
    assert dues(m) == {
        "blue": plus_workdays(MON, prov - 1),
        "yellow": plus_workdays(MON, prov),
        "orange": plus_workdays(MON, nat - 1),
        "red": plus_workdays(MON, nat),
    }


def test_low_voltage_supporting_works_limits() -> None:
    ev = (("site_survey.completed", MON),)
    g = mon(
        ask(
            business_type="lv_non_residential", voltage="380V", grid_works={"type": "lv"}, events=ev
        ),
        "lv.grid_works",
    )
    assert dues(g)["yellow"] == plus_workdays(MON, 3)
    g = mon(
        ask(
            business_type="lv_small_micro",
            voltage="380V",
            grid_works={"type": "lv_small_micro"},
            events=ev,
        ),
        "lv.grid_works",
    )
    assert dues(g)["yellow"] == plus_workdays(MON, 13)


def test_appointment_confirm_same_day_rules() -> None:
    booked = at(2026, 11, 17, 8)
    hv = ask(
        channel="phone",
        accepted_at=at(2026, 11, 17, 15).isoformat(),
        events=(("appointment_confirm.started", booked),),
    )
    a = mon(hv, "hv.appointment_confirm")
    assert a.started_at == at(2026, 11, 17, 0)
    assert dues(a) == {"blue": at(2026, 11, 17, 10, 30), "yellow": at(2026, 11, 18, 0)}
    assert a.result == "notify"
    lv = ask(
        business_type="lv_residential",
        voltage="220V",
        channel="phone",
        accepted_at=at(2026, 11, 17, 15).isoformat(),
        events=(("appointment_confirm.started", booked),),
    )
    assert mon(lv, "lv.appointment_confirm").thresholds == []
    # A counter application has no appointment stage.
    assert "appointment_confirm" not in {m.code for m in ask().monitors}


def test_online_contact_within_18_hours_warns_at_check_times() -> None:
    booked = at(2026, 11, 17, 14)
    resp = ask(
        channel="online",
        accepted_at=at(2026, 11, 18, 15).isoformat(),
        events=(("appointment_confirm.started", booked),),
        as_of=booked.isoformat(),
    )
    m = mon(resp, "appointment.online_contact")
    # 18 h after 14:00 is 08:00 next day; the warning goes out at the 10:30 check.
    assert dues(m) == {"yellow": at(2026, 11, 18, 10, 30)}
    assert m.provincial_due_at == at(2026, 11, 18, 10, 30)


# ---------------------------------------------------------------- distributed generation


@pytest.mark.parametrize(
    ("variant", "prov", "nat"),
    [("pv_single_point", 8, 30), ("pv_multi_point", 14, 40), ("other", 14, 50)],
)
def test_dg_lv_whole_process(variant: str, prov: int, nat: int) -> None:
    resp = ask(business_type="dg_lv", voltage="380V", dg_variant=variant)
    m = mon(resp, "dg_lv.full_process")
    assert m.provincial_limit is not None and m.provincial_limit.amount == prov
    assert m.national_limit is not None and m.national_limit.amount == nat
    assert dues(m)["yellow"] == plus_workdays(MON, prov)
    assert dues(m)["blue"] == plus_workdays(MON, prov - 1)
    if variant == "pv_single_point":
        assert dues(m)["red"] == plus_workdays(MON, 30)


def test_dg_lv_energize_event_alias() -> None:
    resp = ask(
        business_type="dg_lv",
        voltage="380V",
        dg_variant="pv_single_point",
        events=(("grid_connect.completed", at(2026, 11, 18, 9)),),
    )
    m = mon(resp, "dg_lv.full_process")
    assert m.state == "met"
    assert m.stopped_at == at(2026, 11, 18, 9)


@pytest.mark.parametrize(("variant", "red"), [("pv_single_point", 20), ("pv_multi_point", 30)])
def test_dg_hv_access_plan_reply(variant: str, red: int) -> None:
    resp = ask(business_type="dg_hv", voltage="10kV", dg_variant=variant)
    m = mon(resp, "dg_hv.plan_reply")
    assert dues(m) == {
        "blue": plus_workdays(MON, 7),
        "yellow": plus_workdays(MON, 10),
        "orange": plus_workdays(MON, red - 1),
        "red": plus_workdays(MON, red),
    }
    assert "blue_lead_not_rule" in m.flags


def test_dg_hv_later_stages() -> None:
    events = (
        ("design_review.started", MON),
        ("completion_inspection.started", MON),
        ("completion_inspection.completed", at(2026, 11, 17, 9)),
    )
    resp = ask(business_type="dg_hv", voltage="10kV", dg_variant="pv_single_point", events=events)
    d = mon(resp, "dg_hv.design_review")
    assert dues(d) == {
        "blue": plus_workdays(MON, 2),
        "yellow": plus_workdays(MON, 3),
        "orange": plus_workdays(MON, 9),
        "red": plus_workdays(MON, 10),
    }
    e = mon(resp, "dg_hv.energize")
    assert e.started_at == at(2026, 11, 17, 9)
    assert dues(e)["red"] == plus_workdays(at(2026, 11, 17, 9), 10)


# ---------------------------------------------------------------- change services (blue/yellow)


@pytest.mark.parametrize(
    ("business_type", "extra", "rule", "start_event", "prov", "blue_before"),
    [
        ("capacity_reduction", {}, "capacity_reduction.plan_reply", "accept.started", 2, 1),
        (
            "capacity_reduction_restore",
            {},
            "capacity_reduction.completion_inspection",
            "completion_inspection.started",
            2,
            1,
        ),
        (
            "capacity_reduction",
            {"important": True},
            "capacity_reduction.design_review",
            "design_review.started",
            3,
            1,
        ),
        (
            "capacity_reduction",
            {"important": True},
            "capacity_reduction.mid_inspection",
            "mid_inspection.started",
            2,
            1,
        ),
        ("suspension", {}, "suspension.equipment_sealing", "site_survey.completed", 2, 1),
        ("suspension_restore", {}, "suspension.equipment_sealing", "site_survey.completed", 2, 1),
        ("meter_relocation", {}, "meter_relocation.site_survey", "accept.started", 2, 1),
        ("meter_relocation", {}, "meter_relocation.full_process", "accept.started", 4, 2),
        ("temporary_removal", {}, "temporary_removal.full_process", "accept.started", 4, 2),
        ("reinstallation", {}, "reinstallation.full_process", "accept.started", 4, 2),
        (
            "rename_non_residential",
            {},
            "rename_non_residential.full_process",
            "accept.started",
            2,
            1,
        ),
        (
            "transfer_residential",
            {"flags": ["fee_settlement"]},
            "transfer_residential.full_process",
            "accept.started",
            3,
            1,
        ),
        (
            "transfer_non_residential",
            {"flags": ["fee_settlement"]},
            "transfer_non_residential.contract",
            "accept.completed",
            4,
            2,
        ),
        ("tariff_basis_change", {}, "tariff_basis_change.full_process", "accept.started", 2, 1),
        (
            "tariff_basis_change",
            {"meter_change": True},
            "tariff_basis_change.full_process",
            "accept.started",
            5,
            2,
        ),
        ("demand_adjustment", {}, "demand_adjustment.full_process", "accept.started", 2, 1),
        (
            "tou_change_residential",
            {},
            "tou_change_residential.full_process",
            "accept.started",
            2,
            1,
        ),
        (
            "tou_change_residential",
            {"meter_change": True},
            "tou_change_residential.full_process",
            "accept.started",
            5,
            2,
        ),
    ],
)
def test_change_service_rows(
    business_type: str,
    extra: dict[str, Any],
    rule: str,
    start_event: str,
    prov: int,
    blue_before: int,
) -> None:
    events = () if start_event == "accept.started" else ((start_event, MON),)
    resp = ask(business_type=business_type, voltage="380V", events=events, **extra)
    m = mon(resp, rule)
    assert m.national_limit is None
    assert dues(m) == {
        "blue": plus_workdays(MON, prov - blue_before),
        "yellow": plus_workdays(MON, prov),
    }
    assert m.recipients["yellow"] == [
        "customer_manager",
        "connection_specialist",
        "marketing_deputy_director",
        "marketing_director",
    ]


def test_residential_rename_in_working_hours() -> None:
    fri = at(2026, 11, 20, 15)
    m = mon(
        ask(business_type="rename_residential", voltage="220V", accepted_at=fri.isoformat()),
        "rename_residential.full_process",
    )
    assert m.provincial_limit is not None and m.provincial_limit.unit == "workhour"
    assert dues(m) == {"blue": at(2026, 11, 23, 9), "yellow": at(2026, 11, 23, 15)}


def test_transfer_without_fee_settlement_is_not_monitored() -> None:
    resp = ask(business_type="transfer_residential", voltage="220V")
    assert "transfer_residential.full_process" not in {m.id for m in resp.monitors}


# ---------------------------------------------------------------- terminal, archive, recipients


def test_terminal_commissioning_and_archive() -> None:
    resp = ask(events=(("terminal_commissioning.started", MON), ("archive.started", MON)))
    for rule in ("new_service.terminal_commissioning", "new_service.archive"):
        m = mon(resp, rule)
        assert m.result == "notify"
        assert dues(m) == {"blue": plus_workdays(MON, 1), "yellow": plus_workdays(MON, 2)}


def test_recipients_per_level() -> None:
    plan = mon(ask(), "hv.plan_reply")
    assert plan.recipients["blue"] == ["customer_manager", "connection_specialist"]
    assert plan.recipients["yellow"] == [
        "customer_manager",
        "connection_specialist",
        "marketing_deputy_director",
        "marketing_director",
        "executive",
    ]
    assert plan.recipients["orange"] == [
        "customer_manager",
        "connection_specialist",
        "marketing_deputy_director",
        "marketing_director",
    ]
    assert plan.recipients["red"] == plan.recipients["yellow"]


# ---------------------------------------------------------------- too-short table


def test_low_voltage_too_short_under_two_hours() -> None:
    quick = ask(
        business_type="lv_residential",
        voltage="220V",
        events=(("meter_install.completed", MON + timedelta(minutes=90)),),
    )
    m = mon(quick, "lv.full_process.no_grid")
    assert m.too_short is not None and m.too_short.flagged is True
    assert m.too_short.result == "onsite_check"
    assert m.state == "met"
    exact = ask(
        business_type="lv_residential",
        voltage="220V",
        events=(("meter_install.completed", MON + timedelta(hours=2)),),
    )
    m = mon(exact, "lv.full_process.no_grid")
    assert m.too_short is not None and m.too_short.flagged is False
    assert "lv.full_process.no_grid" in quick.too_short


def test_hv_plan_reply_too_short_is_inclusive() -> None:
    resp = ask(events=(("plan_reply.completed", plus_workdays(MON, 2)),))
    m = mon(resp, "hv.plan_reply")
    assert m.too_short is not None
    assert m.too_short.until == plus_workdays(MON, 2)
    assert m.too_short.flagged is True
    resp = ask(voltage="35kV", events=(("plan_reply.completed", plus_workdays(MON, 3)),))
    m = mon(resp, "hv.plan_reply")
    assert m.too_short is not None and m.too_short.until == plus_workdays(MON, 4)
    assert m.too_short.flagged is True


def test_energize_too_short_counts_from_the_earliest_event() -> None:
    events = (
        ("completion_inspection.completed", at(2026, 11, 17, 9)),
        ("contract.completed", at(2026, 11, 18, 9)),
        ("meter_install.completed", at(2026, 11, 18, 10)),
        ("dispatch_agreement.completed", at(2026, 11, 18, 11)),
        ("energize.completed", at(2026, 11, 18, 12)),
    )
    m = mon(ask(events=events), "hv.energize")
    assert m.too_short is not None
    assert m.too_short.started_at == at(2026, 11, 17, 9)
    assert m.too_short.flagged is False
    assert m.started_at == at(2026, 11, 18, 11)


def test_hv_whole_process_too_short_both_tiers() -> None:
    m = mon(ask(events=(("energize.completed", plus_workdays(MON, 4)),)), "hv.full_process")
    assert m.too_short is not None and m.too_short.flagged is True
    assert m.too_short.provincial is not None and m.too_short.provincial.amount == 5
    assert m.too_short.national is not None and m.too_short.national.amount == 5
    assert m.too_short.result == "assess"


# ---------------------------------------------------------------- states, pauses, provisional


def test_states_over_time() -> None:
    assert mon(ask(), "hv.plan_reply").state == "running"
    late = ask(as_of=plus_workdays(MON, 10).isoformat())
    p = mon(late, "hv.plan_reply")
    assert p.state == "breached"
    assert p.level == "orange"
    done = ask(events=(("plan_reply.completed", plus_workdays(MON, 5)),))
    p = mon(done, "hv.plan_reply")
    assert p.state == "met"
    assert p.level is None
    assert mon(ask(), "hv.energize").state == "pending"


def test_customer_pause_shifts_deadlines_and_open_pause_stops_them() -> None:
    events = (("pause", at(2026, 11, 17, 9)), ("resume", at(2026, 11, 19, 9)))
    p = mon(ask(events=events), "hv.plan_reply")
    assert dues(p)["yellow"] == plus_workdays(MON, 12)
    assert p.pauses[0].kind == "customer"
    held = ask(events=(("pause", at(2026, 11, 17, 9)),), as_of=at(2026, 11, 18, 9).isoformat())
    p = mon(held, "hv.plan_reply")
    assert p.state == "paused"
    assert dues(p)["yellow"] is None
    assert p.next_due_at is None


def test_next_due_and_provisional_into_an_unpublished_year() -> None:
    resp = ask(accepted_at="2026-12-21T09:00:00+08:00")
    p = mon(resp, "hv.plan_reply")
    assert p.provisional is True
    assert resp.provisional is True
    assert resp.next_due_at is not None
    assert mon(ask(), "hv.plan_reply").provisional is False
    # Running at acceptance: plan reply (blue after 8 days) and the whole process (blue at 14).
    assert ask().next_due_at == plus_workdays(MON, 8)
