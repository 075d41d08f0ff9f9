"""Seed 002 (潢川县, Xinyang, Henan; 潢电〔2021〕38号, 2021-11-26): its numbers, read back out
of the engine through the deadline preview.

Expected instants are worked out by hand (weekday counting in holiday-free weeks: 2021-11-15 to
2021-12-31 and 2026-11-16 to 2026-12-31 have no public holiday), never read from the pack file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from policies.codes import BUSINESS_TYPES
from policies.loader import load_policy
from policies.preview import PreviewMonitor, PreviewResponse
from tests.policies.seed_support import (
    MON,
    at,
    dues,
    ids,
    lim,
    mon,
    plus_workdays,
    preview_for,
)

UNIT = "henan/xinyang/huangchuan"
SEED = "002_5323f2d8d60c3421.txt"
HENAN = "000_1fb244cfb33f1f39.txt"


DEFAULTS: dict[str, Any] = {
    "business_type": "hv",
    "voltage": "10kV",
    "capacity_kva": 630,
    "area": "rural",
}


def ask(events: tuple[tuple[str, datetime], ...] = (), **body: Any) -> PreviewResponse:
    return preview_for(UNIT, events, DEFAULTS, **body)


def cites(m: PreviewMonitor, file: str) -> bool:
    return any(file in s for s in m.sources)


# ---------------------------------------------------------------- plan reply: 5 vs 10


def test_plan_reply_five_working_days_after_the_survey() -> None:
    """L137-L139: 勘察完毕后于五个工作日内答复 (省内要求时限为十个工作日). Survey finished Tue
    17 Nov 10:00: yellow 5 working days later (Tue 24 Nov 10:00), blue 2 earlier (Fri 20 Nov)."""
    survey_done = at(2026, 11, 17, 10)
    resp = ask(events=(("site_survey.completed", survey_done),))
    county = mon(resp, "hv.plan_reply.county")
    assert county.code == "plan_reply"
    assert county.started_at == survey_done
    assert lim(county.provincial_limit) == (5, "workday")
    assert county.national_limit is None
    assert dues(county) == {
        "blue": plus_workdays(survey_done, 3),
        "yellow": plus_workdays(survey_done, 5),
    }
    assert dues(county)["yellow"] == at(2026, 11, 24, 10)
    assert county.result == "assess"
    assert "plan_reply_5_vs_10" in county.flags
    assert county.source.startswith(SEED)
    # The provincial monitor is kept, both numbers recorded: 10 (yellow) / 11 (red) from acceptance.
    henan = mon(resp, "hv.plan_reply")
    assert lim(henan.provincial_limit) == (10, "workday")
    assert lim(henan.national_limit) == (11, "workday")
    assert dues(henan)["yellow"] == plus_workdays(MON, 10)
    assert dues(henan)["red"] == plus_workdays(MON, 11)
    assert cites(henan, HENAN)


def test_plan_reply_county_clock_waits_for_the_survey() -> None:
    resp = ask()
    county = mon(resp, "hv.plan_reply.county")
    assert county.state == "pending"
    assert county.started_at is None
    assert all(t.due_at is None for t in county.thresholds)
    assert mon(resp, "hv.plan_reply").state == "running"


def test_plan_reply_met_and_breached() -> None:
    survey_done = at(2026, 11, 17, 10)
    on_time = ask(
        events=(
            ("site_survey.completed", survey_done),
            ("plan_reply.completed", at(2026, 11, 24, 9)),
        )
    )
    assert mon(on_time, "hv.plan_reply.county").state == "met"
    late = ask(
        events=(
            ("site_survey.completed", survey_done),
            ("plan_reply.completed", at(2026, 11, 24, 11)),
        )
    )
    county = mon(late, "hv.plan_reply.county")
    assert county.state == "breached"
    assert county.level == "yellow"
    # Inside the provincial 10 working days the Henan monitor is still met.
    assert mon(late, "hv.plan_reply").state == "met"


# ---------------------------------------------------------------- small/micro: 5 vs 15 (国网 25)


def test_small_micro_five_working_days_from_2021_11_26() -> None:
    accepted = at(2021, 11, 26, 9)  # the document's date, a Friday
    resp = ask(business_type="lv_small_micro", voltage="380V", accepted_at=accepted.isoformat())
    sm = mon(resp, "lv_small_micro.full_process")
    assert lim(sm.provincial_limit) == (5, "workday")
    assert lim(sm.national_limit) == (25, "workday")
    assert dues(sm) == {
        "blue": plus_workdays(accepted, 4),  # Henan row's lead, 1 working day
        "yellow": plus_workdays(accepted, 5),
        "orange": plus_workdays(accepted, 24),
        "red": plus_workdays(accepted, 25),
    }
    assert dues(sm)["yellow"] == at(2021, 12, 3, 9)
    assert "small_micro_5_vs_15" in sm.flags
    assert cites(sm, SEED) and cites(sm, HENAN)


def test_small_micro_accepted_before_the_document_keeps_henan_15() -> None:
    accepted = at(2021, 11, 25, 9)
    resp = ask(business_type="lv_small_micro", voltage="380V", accepted_at=accepted.isoformat())
    sm = mon(resp, "lv_small_micro.full_process")
    assert lim(sm.provincial_limit) == (15, "workday")
    assert dues(sm)["yellow"] == plus_workdays(accepted, 15)
    # No county-only monitor exists before 2021-11-26.
    hv = ask(accepted_at=accepted.isoformat())
    assert "hv.plan_reply.county" not in ids(hv)
    assert "hv.protection_setting" not in ids(hv)


def test_small_micro_with_works_keeps_the_inherited_13_days_as_written() -> None:
    """Inconsistency small_micro_works_13_vs_whole_5: the Henan construction limit (13 working
    days) is longer than the county's whole process (5); both are kept."""
    survey_done = at(2026, 11, 17)
    resp = ask(
        business_type="lv_small_micro",
        voltage="380V",
        grid_works={"type": "lv_small_micro"},
        events=(("site_survey.completed", survey_done),),
    )
    works = mon(resp, "lv.grid_works")
    assert lim(works.provincial_limit) == (13, "workday")
    assert dues(works)["yellow"] == plus_workdays(survey_done, 13)
    assert lim(mon(resp, "lv_small_micro.full_process").provincial_limit) == (5, "workday")
    incs = {i.id: i.rules for i in load_policy(UNIT).inconsistencies}
    assert incs["small_micro_works_13_vs_whole_5"] == [
        "lv.grid_works",
        "lv_small_micro.full_process",
    ]


def test_small_micro_as_flag_on_non_residential_gets_the_county_limit() -> None:
    resp = ask(business_type="lv_non_residential", voltage="380V", small_micro=True)
    assert lim(mon(resp, "lv_small_micro.full_process").provincial_limit) == (5, "workday")


# ---------------------------------------------------------------- same-day LV residential


def test_residential_direct_metering_same_day() -> None:
    """L51: 具备直接装表条件、无配套的低压居民项目，当日申请当日送电: due at 24:00 of the day."""
    accepted = at(2026, 11, 18, 15, 30)
    resp = ask(
        business_type="lv_residential",
        voltage="220V",
        accepted_at=accepted.isoformat(),
        flags=["direct_metering"],
    )
    same_day = mon(resp, "lv_residential.same_day")
    assert dues(same_day) == {"yellow": at(2026, 11, 19, 0)}
    assert lim(same_day.provincial_limit) == (1, "day")
    # The 2-working-day LV limit (same as Henan) still applies, citing both documents.
    lv = mon(resp, "lv.full_process.no_grid")
    assert lim(lv.provincial_limit) == (2, "workday")
    assert lim(lv.national_limit) == (3, "workday")
    assert dues(lv)["yellow"] == plus_workdays(accepted, 2)
    assert cites(lv, SEED) and cites(lv, HENAN)
    done = ask(
        business_type="lv_residential",
        voltage="220V",
        accepted_at=accepted.isoformat(),
        flags=["direct_metering"],
        events=(("meter_install.completed", at(2026, 11, 18, 17)),),
    )
    assert mon(done, "lv_residential.same_day").state == "met"


def test_same_day_rule_needs_direct_metering_and_no_supporting_works() -> None:
    plain = ask(business_type="lv_residential", voltage="220V")
    assert "lv_residential.same_day" not in ids(plain)
    with_works = ask(
        business_type="lv_residential",
        voltage="220V",
        flags=["direct_metering"],
        grid_works={"type": "lv"},
    )
    assert "lv_residential.same_day" not in ids(with_works)
    lv = mon(with_works, "lv.full_process.with_grid")
    assert lim(lv.provincial_limit) == (5, "workday")
    assert cites(lv, SEED)


# ---------------------------------------------------------------- HV stages


def test_hv_sixteen_working_days_excluding_grid_works() -> None:
    resp = ask(
        grid_works={"type": "overhead_line"},
        events=(
            ("grid_works.started", at(2026, 11, 23, 9)),
            ("grid_works.completed", at(2026, 11, 30, 9)),
        ),
    )
    full = mon(resp, "hv.full_process")
    assert lim(full.provincial_limit) == (16, "workday")
    # 5 working days of grid works do not count: 16 + 5 = 21 working days after acceptance.
    assert dues(full)["yellow"] == plus_workdays(MON, 21)
    assert cites(full, SEED) and cites(full, HENAN)


def test_protection_setting_three_working_days() -> None:
    """L51: 自客户经理提交保护定值整定申请开始，3个工作日内完成保护定值整定及备案."""
    asked = at(2026, 11, 18, 10)  # Wednesday
    resp = ask(events=(("protection_setting.started", asked),))
    ps = mon(resp, "hv.protection_setting")
    assert ps.code == "protection_setting"
    assert lim(ps.provincial_limit) == (3, "workday")
    assert ps.national_limit is None
    assert dues(ps) == {"blue": at(2026, 11, 20, 10), "yellow": at(2026, 11, 23, 10)}
    assert ps.coordination is True
    assert ps.source.startswith(SEED)


def test_energize_three_working_days_after_acceptance_pass() -> None:
    """L139: 现场验收合格后三个工作日内完成装表接电; the Henan 送(停)电管理 clock waits for the
    latest of its events (contract still missing here)."""
    passed = at(2026, 11, 19, 10)  # Thursday
    resp = ask(events=(("completion_inspection.completed", passed),))
    county = mon(resp, "hv.energize.county")
    assert dues(county) == {"blue": at(2026, 11, 23, 10), "yellow": at(2026, 11, 24, 10)}
    assert "energize_start_county" in county.flags
    assert mon(resp, "hv.energize").state == "pending"


def test_completion_inspection_three_working_days_as_henan() -> None:
    reported = at(2026, 11, 19, 14)
    resp = ask(events=(("completion_inspection.started", reported),))
    ci = mon(resp, "hv.completion_inspection")
    assert lim(ci.provincial_limit) == (3, "workday")
    assert dues(ci)["yellow"] == plus_workdays(reported, 3)
    assert cites(ci, SEED)


# ---------------------------------------------------------------- over one year in flight


def test_order_pending_over_one_year_is_flagged() -> None:
    """附件2 二.7: 在途工单超过1年 (plain time, customer holds not excluded)."""
    resp = ask(
        events=(
            ("pause", at(2026, 11, 17, 9)),
            ("resume", at(2026, 12, 17, 9)),
        )
    )
    pending = mon(resp, "new_service.overlong_pending")
    assert lim(pending.provincial_limit) == (365, "day")
    assert dues(pending) == {"yellow": at(2027, 11, 16, 9)}
    # The same hold does shift a working-day monitor.
    assert dues(mon(resp, "hv.full_process"))["yellow"] != plus_workdays(MON, 16)


# ---------------------------------------------------------------- outside-line approval at 150 m


@pytest.mark.parametrize(
    ("business_type", "voltage", "metres", "exempt"),
    [
        ("hv", "10kV", 150, True),
        ("hv", "10kV", 151, False),
        ("lv_small_micro", "380V", 150, True),
        ("lv_small_micro", "380V", 151, False),
        ("lv_residential", "220V", 100, False),
        ("lv_non_residential", "380V", 20, False),
    ],
)
def test_approval_exemption_150_m(
    business_type: str, voltage: str, metres: int, exempt: bool
) -> None:
    resp = ask(business_type=business_type, voltage=voltage, outside_line_m=metres)
    assert ("admin_approval" in resp.skipped_stages) is exempt


def test_approval_exemption_starts_with_the_document() -> None:
    before = ask(accepted_at=at(2021, 11, 25).isoformat(), outside_line_m=120)
    assert "admin_approval" not in before.skipped_stages
    after = ask(accepted_at=at(2021, 11, 26).isoformat(), outside_line_m=120)
    assert "admin_approval" in after.skipped_stages
    no_line = ask(accepted_at=at(2021, 11, 25).isoformat())
    assert "admin_approval" in no_line.skipped_stages


def test_sanmenxia_200_m_is_not_inherited() -> None:
    hc = ask(outside_line_m=180)
    assert "admin_approval" not in hc.skipped_stages
    assert load_policy(UNIT).chain == ["national", "henan", UNIT]


# ---------------------------------------------------------------- tables kept as parameters


def test_penalty_table_rows() -> None:
    policy = load_policy(UNIT)
    rows = {r["no"]: r for r in policy.params["penalties"]["rows"]}
    assert policy.params["penalties"]["source"]["file"] == SEED
    assert (rows["二.3"]["amount"], rows["二.3"]["leadership"], rows["二.3"]["rest"]) == (
        30000,
        10000,
        20000,
    )
    assert rows["二.3"]["too_short_business_types"] == ["hv", "dg_lv"]
    assert (rows["二.4"]["amount"], rows["二.4"]["stage"]) == (5000, "appointment_confirm")
    assert (rows["二.7"]["amount"], rows["二.7"]["monitor"]) == (
        20000,
        "new_service.overlong_pending",
    )
    assert rows["一.1"]["amount"] == 50000
    assert rows["二.1"]["multiplier"] == 1.5
    # Encoded as written: the 万元 cells stay visible, the amounts are in 元.
    assert rows["二.1"]["rest_as_written"] == "15000 万元"
    assert rows["二.1"]["leadership"] + rows["二.1"]["rest"] == rows["二.1"]["amount"]
    for no in ("二.7", "二.8", "三.5"):
        assert rows[no]["leadership"] + rows[no]["rest"] == rows[no]["amount"]
    incs = {i.id for i in policy.inconsistencies}
    assert {"penalty_wan_yuan", "penalty_merged_cell", "plan_reply_5_vs_10"} <= incs


def test_outage_planning_tiers_and_approval_parameters() -> None:
    params = load_policy(UNIT).params
    tiers = params["outage_plan_tiers"]
    assert tiers["order"] == ["annual", "monthly", "weekly", "daily"]
    assert [tiers[t]["label"] for t in tiers["order"]] == ["年统筹", "月计划", "周安排", "日管控"]
    assert params["admin_approval"]["exempt_max_m"] == 150
    assert params["admin_approval"]["exempt_business_types"] == ["lv_small_micro", "hv"]
    # Inherited untouched from Henan: the construction table.
    assert params["supporting_works_limits"]["10kV"]["t_connection"] == 7


# ---------------------------------------------------------------- every business type answers


@pytest.mark.parametrize("business_type", sorted(BUSINESS_TYPES))
def test_preview_answers_for_every_business_type(business_type: str) -> None:
    voltage = "10kV" if business_type in ("hv", "dg_hv") else "380V"
    resp = ask(business_type=business_type, voltage=voltage, dg_variant="pv_single_point")
    assert resp.policy.unit == UNIT
    assert resp.policy.chain == ["national", "henan", UNIT]
    for m in resp.monitors:
        assert ".txt" in m.source or "DESIGN.md" in m.source, m.id
        if m.state == "running":
            assert all(t.due_at is not None for t in m.thresholds), m.id
