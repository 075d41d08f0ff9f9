"""Seed 003 (吉林省地方电力有限公司, issued by the Jingyu branch, 2022-01-26): its numbers, read
back out of the engine through the deadline preview, for `jilin-local` and `jilin-local/jingyu`.

Expected instants are worked out by hand: weekday counting in holiday-free stretches, or the
2022 National Day notice (1-7 Oct rest, Sat 8 / Sun 9 Oct make-up working days). Never from the
pack file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from policies.codes import BUSINESS_TYPES
from policies.loader import load_policy
from policies.preview import PreviewResponse
from tests.policies.seed_support import MON, at, dues, lim, mon, plus_workdays, preview_for

UNIT = "jilin-local"
BRANCH = "jilin-local/jingyu"
SEED = "003_2b29736945fdc099.txt"


DEFAULTS: dict[str, Any] = {"business_type": "lv_small_micro", "voltage": "380V", "area": "rural"}


def ask(
    unit: str = UNIT, events: tuple[tuple[str, datetime], ...] = (), **body: Any
) -> PreviewResponse:
    return preview_for(unit, events, DEFAULTS, **body)


# ---------------------------------------------------------------- 三零: 25 → 20 → 15 by year


@pytest.mark.parametrize(
    ("accepted", "days"),
    [
        (at(2020, 7, 6), 25),  # 2020年底前: 25
        (at(2021, 11, 1), 20),  # 2021: 20
        (at(2022, 11, 7), 15),  # from 2022: 15
        (at(2026, 11, 16), 15),  # still 15 today
    ],
)
def test_three_zero_limit_by_acceptance_year(accepted: datetime, days: int) -> None:
    resp = ask(accepted_at=accepted.isoformat())
    sm = mon(resp, "lv_small_micro.full_process")
    assert lim(sm.provincial_limit) == (days, "workday")
    # Jilin local power is not State Grid: no 国网 tier while the Jilin rule is in force.
    assert sm.national_limit is None
    assert dues(sm) == {
        "blue": plus_workdays(accepted, days - 2),  # national default lead, > 3 days → 2
        "yellow": plus_workdays(accepted, days),
    }
    assert sm.source.startswith(SEED)
    assert "not_state_grid" in sm.flags


def test_three_zero_2021_gets_20_and_2022_gets_15() -> None:
    """The document's two limits in one place: the acceptance date picks the rule."""
    y2021 = mon(ask(accepted_at=at(2021, 11, 1).isoformat()), "lv_small_micro.full_process")
    y2022 = mon(ask(accepted_at=at(2022, 11, 7).isoformat()), "lv_small_micro.full_process")
    assert lim(y2021.provincial_limit) == (20, "workday")
    assert lim(y2022.provincial_limit) == (15, "workday")
    assert dues(y2021)["yellow"] == at(2021, 11, 29)
    assert dues(y2022)["yellow"] == at(2022, 11, 28)


def test_three_zero_15_days_across_national_day_2022() -> None:
    """Accepted Mon 26 Sep 2022 09:00: 26-30 Sep count, 1-7 Oct rest, Sat 8 and Sun 9 Oct are
    make-up working days. Working day 5 ends Sat 8 Oct 09:00, 15 ends Thu 20 Oct 09:00."""
    resp = ask(accepted_at=at(2022, 9, 26).isoformat())
    sm = mon(resp, "lv_small_micro.full_process")
    assert dues(sm) == {"blue": at(2022, 10, 18), "yellow": at(2022, 10, 20)}
    assert sm.provisional is False


def test_year_boundary_follows_the_acceptance_day_in_china() -> None:
    late_2021 = ask(accepted_at="2021-12-31T23:30:00+08:00")
    assert lim(mon(late_2021, "lv_small_micro.full_process").provincial_limit) == (20, "workday")
    # 16:30 UTC on 31 Dec is 00:30 on 1 Jan 2022 in Asia/Shanghai.
    early_2022 = ask(accepted_at="2021-12-31T16:30:00+00:00")
    assert lim(mon(early_2022, "lv_small_micro.full_process").provincial_limit) == (15, "workday")


def test_before_2020_the_national_default_applies() -> None:
    resp = ask(accepted_at=at(2019, 12, 30).isoformat())
    sm = mon(resp, "lv_small_micro.full_process")
    assert sm.provincial_limit is None
    assert lim(sm.national_limit) == (25, "workday")
    assert [t.level for t in sm.thresholds] == ["orange", "red"]


# ---------------------------------------------------------------- residential 5, non-三零 LV 6


@pytest.mark.parametrize("grid_works", [None, {"type": "lv"}])
def test_residential_five_working_days(grid_works: dict[str, str] | None) -> None:
    resp = ask(business_type="lv_residential", voltage="220V", grid_works=grid_works)
    rule = "lv.full_process.no_grid" if grid_works is None else "lv.full_process.with_grid"
    res = mon(resp, rule)
    assert lim(res.provincial_limit) == (5, "workday")
    assert res.national_limit is None
    assert dues(res) == {"blue": plus_workdays(MON, 3), "yellow": plus_workdays(MON, 5)}
    assert any(SEED in s for s in res.sources)


def test_residential_before_2020_keeps_the_national_three_days() -> None:
    res = mon(
        ask(business_type="lv_residential", voltage="220V", accepted_at=at(2019, 6, 3).isoformat()),
        "lv.full_process.no_grid",
    )
    assert res.provincial_limit is None
    assert lim(res.national_limit) == (3, "workday")


def test_non_three_zero_non_residential_six_working_days_customer_time_excluded() -> None:
    resp = ask(
        business_type="lv_non_residential",
        events=(("pause", at(2026, 11, 17)), ("resume", at(2026, 11, 19))),
    )
    lv = mon(resp, "lv.full_process.no_grid")
    assert lim(lv.provincial_limit) == (6, "workday")
    assert lv.national_limit is None
    # Two working days of customer hold: 6 + 2 = 8 working days after acceptance.
    assert dues(lv)["yellow"] == plus_workdays(MON, 8)
    assert "total_vs_whole_process" in lv.flags


# ---------------------------------------------------------------- HV: 22 single, 32 dual


@pytest.mark.parametrize(("dual", "days"), [(False, 22), (True, 32)])
def test_hv_total_single_22_dual_32(dual: bool, days: int) -> None:
    resp = ask(business_type="hv", voltage="10kV", dual_power=dual)
    hv = mon(resp, "hv.full_process")
    assert lim(hv.provincial_limit) == (days, "workday")
    assert dues(hv) == {"blue": plus_workdays(MON, days - 2), "yellow": plus_workdays(MON, days)}
    assert hv.source.startswith(SEED)
    assert "marketing_director" in hv.recipients["yellow"]  # national default roles


def test_hv_total_excludes_customer_works_but_not_grid_works() -> None:
    resp = ask(
        business_type="hv",
        voltage="10kV",
        grid_works={"type": "overhead_line"},
        events=(
            ("grid_works.started", at(2026, 11, 18)),
            ("grid_works.completed", at(2026, 11, 20)),
            ("customer_works.started", at(2026, 11, 23)),
            ("customer_works.completed", at(2026, 11, 30)),
        ),
    )
    hv = mon(resp, "hv.full_process")
    # 5 working days of customer works are excluded; the 2 days of grid works count.
    assert dues(hv)["yellow"] == plus_workdays(MON, 22 + 5)
    assert [p.kind for p in hv.pauses] == ["policy"]


def test_hv_stages_jilin_leaves_open_fall_back_to_national() -> None:
    plan = mon(ask(business_type="hv", voltage="10kV"), "hv.plan_reply")
    assert plan.provincial_limit is None
    assert lim(plan.national_limit) == (11, "workday")
    assert not any(SEED in s for s in plan.sources)


# ---------------------------------------------------------------- approval limits: LV 5, HV 10


@pytest.mark.parametrize(
    ("business_type", "voltage", "days"),
    [
        ("lv_residential", "220V", 5),
        ("lv_small_micro", "380V", 5),
        ("lv_non_residential", "380V", 5),
        ("hv", "10kV", 10),
        ("hv", "20kV", 10),
    ],
)
def test_outside_line_approval_limits(business_type: str, voltage: str, days: int) -> None:
    started = at(2026, 11, 18)
    resp = ask(
        business_type=business_type,
        voltage=voltage,
        outside_line_m=500,
        events=(("admin_approval.started", started),),
    )
    [appr] = [m for m in resp.monitors if m.code == "admin_approval"]
    assert lim(appr.provincial_limit) == (days, "workday")
    assert dues(appr)["yellow"] == plus_workdays(started, days)
    assert appr.result == "notify"


def test_approval_20kv_is_flagged_and_35kv_has_no_limit() -> None:
    appr = mon(ask(business_type="hv", voltage="20kV", outside_line_m=50), "hv.admin_approval")
    assert "approval_20kv_vs_10kv" in appr.flags
    resp = ask(business_type="hv", voltage="35kV", outside_line_m=50)
    assert not [m for m in resp.monitors if m.code == "admin_approval"]


# ---------------------------------------------------------------- Jingyu inherits everything


def test_jingyu_branch_has_the_company_numbers() -> None:
    resp = ask(BRANCH, accepted_at=at(2021, 11, 1).isoformat())
    assert resp.policy.chain == ["national", UNIT, BRANCH]
    sm = mon(resp, "lv_small_micro.full_process")
    assert lim(sm.provincial_limit) == (20, "workday")
    assert dues(sm)["yellow"] == at(2021, 11, 29)
    hv = mon(ask(BRANCH, business_type="hv", voltage="10kV", dual_power=True), "hv.full_process")
    assert lim(hv.provincial_limit) == (32, "workday")


# ---------------------------------------------------------------- plan-generation parameters


def test_zero_investment_thresholds_by_area_and_year() -> None:
    plan = load_policy(BRANCH).params["plan_generation"]
    assert plan["capacity_unit"] == "kW"
    assert plan["lv_access_max_kw_three_zero"] == 160
    rows = plan["zero_investment"]
    y2021 = [r for r in rows if r["effective_from"].year == 2021]
    y2022 = [r for r in rows if r["effective_from"].year == 2022]
    assert [(r["urban_max_kw"], r["rural_max_kw"]) for r in y2021] == [(160, 100)]
    assert [(r["urban_max_kw"], r["rural_max_kw"]) for r in y2022] == [(160, 160)]
    approval = load_policy(UNIT).params["admin_approval"]
    assert approval["lv_limit"] == {"amount": 5, "unit": "workday"}
    assert approval["hv_limit"] == {"amount": 10, "unit": "workday"}


# ---------------------------------------------------------------- every business type answers


@pytest.mark.parametrize("unit", [UNIT, BRANCH])
@pytest.mark.parametrize("business_type", sorted(BUSINESS_TYPES))
def test_preview_answers_for_every_business_type(unit: str, business_type: str) -> None:
    voltage = "10kV" if business_type in ("hv", "dg_hv") else "380V"
    resp = ask(unit, business_type=business_type, voltage=voltage, dg_variant="pv_single_point")
    assert resp.policy.unit == unit
    for m in resp.monitors:
        assert ".txt" in m.source or "DESIGN.md" in m.source, m.id
        if m.state == "running":
            assert all(t.due_at is not None for t in m.thresholds), m.id
    if business_type in ("lv_residential", "lv_non_residential", "lv_small_micro", "hv"):
        assert any(SEED in m.source for m in resp.monitors)
