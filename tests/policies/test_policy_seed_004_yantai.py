"""Seed 004 (烟台, 烟发改能源〔2020〕205号): its numbers, read back out of the engine through the
deadline preview.

Expected instants are worked out by hand (weekday counting in the holiday-free weeks of
2026-11-16 to 2026-12-31), never read from the pack file.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from policies.codes import BUSINESS_TYPES
from policies.loader import load_policy
from policies.preview import PreviewResponse
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

UNIT = "shandong/yantai"
SEED = "004_7b2ceeea3a571885.txt"
YANTAI_HV10 = {"hv10.accept", "hv10.plan_reply", "hv10.inspection_energize", "hv10.full_process"}


DEFAULTS: dict[str, Any] = {
    "business_type": "hv",
    "voltage": "10kV",
    "capacity_kva": 800,
    "area": "urban",
}


def ask(events: tuple[tuple[str, datetime], ...] = (), **body: Any) -> PreviewResponse:
    return preview_for(UNIT, events, DEFAULTS, **body)


# ---------------------------------------------------------------- LV enterprises: 1 + 5 ≤ 6


@pytest.mark.parametrize("business_type", ["lv_small_micro", "lv_non_residential"])
def test_lv_enterprise_two_stages_six_working_days(business_type: str) -> None:
    accepted_done = at(2026, 11, 16, 15)
    resp = ask(
        business_type=business_type,
        voltage="380V",
        events=(("accept.completed", accepted_done),),
    )
    full = mon(resp, "lv_enterprise.full_process")
    assert lim(full.provincial_limit) == (6, "workday")
    assert dues(full) == {"blue": plus_workdays(MON, 4), "yellow": plus_workdays(MON, 6)}
    assert full.source.startswith(SEED)
    assert full.recipients["blue"] == ["customer_manager", "connection_specialist"]
    apply = mon(resp, "lv_enterprise.accept")
    assert lim(apply.provincial_limit) == (1, "workday")
    assert apply.state == "met"
    install = mon(resp, "lv_enterprise.energize")
    assert install.started_at == accepted_done
    assert lim(install.provincial_limit) == (5, "workday")
    assert dues(install) == {
        "blue": plus_workdays(accepted_done, 3),
        "yellow": plus_workdays(accepted_done, 5),
    }


def test_lv_application_stage_one_working_day_warns_six_hours_ahead() -> None:
    resp = ask(business_type="lv_small_micro", voltage="380V")
    apply = mon(resp, "lv_enterprise.accept")
    assert dues(apply) == {"blue": at(2026, 11, 17, 3), "yellow": at(2026, 11, 17, 9)}


def test_lv_enterprise_keeps_the_national_tier_as_written() -> None:
    """Yantai is State Grid: the 国网 3 working days (LV without supporting works) stay, red
    before Yantai's yellow at 6; recorded as inconsistency lv_6_vs_national_3."""
    resp = ask(business_type="lv_non_residential", voltage="380V")
    national = mon(resp, "lv.full_process.no_grid")
    assert lim(national.national_limit) == (3, "workday")
    assert national.provincial_limit is None
    assert "lv_6_vs_national_3" in mon(resp, "lv_enterprise.full_process").flags


def test_residential_is_not_an_enterprise() -> None:
    resp = ask(business_type="lv_residential", voltage="220V")
    assert not {"lv_enterprise.full_process", "lv_enterprise.accept"} & ids(resp)


# ---------------------------------------------------------------- 10 kV ordinary: 1 + 5 + 2 ≤ 8


def test_ten_kv_ordinary_three_stages() -> None:
    accept_done = at(2026, 11, 17, 10)
    report = at(2026, 12, 1, 14)
    resp = ask(
        events=(
            ("accept.completed", accept_done),
            ("completion_inspection.started", report),
        )
    )
    apply = mon(resp, "hv10.accept")
    assert lim(apply.provincial_limit) == (1, "workday")
    assert apply.state == "breached"  # 25 h after acceptance
    plan = mon(resp, "hv10.plan_reply")
    assert plan.started_at == accept_done
    assert lim(plan.provincial_limit) == (5, "workday")
    assert dues(plan) == {"blue": at(2026, 11, 20, 10), "yellow": at(2026, 11, 24, 10)}
    energize = mon(resp, "hv10.inspection_energize")
    assert lim(energize.provincial_limit) == (2, "workday")
    assert dues(energize) == {"blue": at(2026, 12, 2, 14), "yellow": at(2026, 12, 3, 14)}
    # The inherited 国网 plan-reply monitor (11 working days from acceptance) is kept.
    assert lim(mon(resp, "hv.plan_reply").national_limit) == (11, "workday")


def test_ten_kv_total_eight_days_pauses_customer_and_grid_works() -> None:
    resp = ask(
        grid_works={"type": "ring_main_unit"},
        events=(
            ("grid_works.started", at(2026, 11, 18)),
            ("grid_works.completed", at(2026, 11, 20)),
            ("customer_works.started", at(2026, 11, 23)),
            ("customer_works.completed", at(2026, 11, 30)),
        ),
    )
    full = mon(resp, "hv10.full_process")
    assert lim(full.provincial_limit) == (8, "workday")
    # 2 working days of grid works + 5 of customer works do not count: 8 + 7 = 15.
    assert dues(full)["yellow"] == plus_workdays(MON, 15)
    assert sorted(p.kind for p in full.pauses) == ["policy", "policy"]
    plain = mon(ask(), "hv10.full_process")
    assert dues(plain) == {"blue": plus_workdays(MON, 6), "yellow": plus_workdays(MON, 8)}


@pytest.mark.parametrize(
    "body",
    [{"important": True}, {"voltage": "35kV"}, {"voltage": "20kV"}],
)
def test_ten_kv_limits_only_for_ordinary_10kv(body: dict[str, Any]) -> None:
    assert not YANTAI_HV10 & ids(ask(**body))


def test_outside_works_to_red_line_25_working_days() -> None:
    start = at(2026, 11, 18)
    resp = ask(
        grid_works={"type": "overhead_line"},
        flags=["investment_to_red_line"],
        events=(("grid_works.started", start),),
    )
    works = mon(resp, "hv.grid_works.red_line")
    assert lim(works.provincial_limit) == (25, "workday")
    assert dues(works) == {"blue": plus_workdays(start, 23), "yellow": plus_workdays(start, 25)}
    other = ask(grid_works={"type": "overhead_line"}, events=(("grid_works.started", start),))
    assert "hv.grid_works.red_line" not in ids(other)


# ---------------------------------------------------------------- approvals: 300 m, 2 days


@pytest.mark.parametrize(
    ("metres", "flags", "needed"),
    [
        (300, [], False),
        (120, [], False),
        (301, [], True),
        (120, ["main_road"], True),
        (0, ["main_road"], False),
    ],
)
def test_approval_exemption_300_m_except_main_roads(
    metres: int, flags: list[str], needed: bool
) -> None:
    resp = ask(outside_line_m=metres, flags=flags)
    assert ("admin_approval" not in resp.skipped_stages) is needed
    assert ("admin_approval.parallel" in ids(resp)) is needed


def test_parallel_approval_two_working_days() -> None:
    started = at(2026, 11, 19, 16)  # Thursday
    resp = ask(outside_line_m=800, events=(("admin_approval.started", started),))
    appr = mon(resp, "admin_approval.parallel")
    assert lim(appr.provincial_limit) == (2, "workday")
    assert dues(appr) == {"blue": at(2026, 11, 20, 16), "yellow": at(2026, 11, 23, 16)}
    assert appr.result == "notify"


# ---------------------------------------------------------------- in force from 2020


def test_rules_start_in_2020() -> None:
    before = ask(accepted_at=at(2019, 12, 30).isoformat(), outside_line_m=100)
    assert not YANTAI_HV10 & ids(before)
    assert "admin_approval" not in before.skipped_stages
    no_line = ask(accepted_at=at(2019, 12, 30).isoformat())
    assert "admin_approval" in no_line.skipped_stages
    after = ask(accepted_at=at(2020, 1, 6).isoformat(), outside_line_m=100)
    assert ids(after) >= YANTAI_HV10
    assert "admin_approval" in after.skipped_stages


# ---------------------------------------------------------------- plan-generation parameters


def test_lv_access_thresholds_and_investment_boundary() -> None:
    params = load_policy(UNIT).params
    plan = params["plan_generation"]
    assert plan["capacity_unit"] == "kVA"
    assert plan["lv_access_max_kva"] == {"urban": 160, "rural": 100}
    assert plan["lv_investment_boundary"] == "meter"
    approval = params["admin_approval"]
    assert (approval["exempt_max_m"], approval["exception_flag"]) == (300, "main_road")
    assert approval["total_limit"] == {"amount": 2, "unit": "workday"}
    targets = {r["average_max"] for r in params["connection_time_targets"]["rows"]}
    assert targets == {3, 6}


# ---------------------------------------------------------------- every business type answers


@pytest.mark.parametrize("business_type", sorted(BUSINESS_TYPES))
def test_preview_answers_for_every_business_type(business_type: str) -> None:
    voltage = "10kV" if business_type in ("hv", "dg_hv") else "380V"
    resp = ask(business_type=business_type, voltage=voltage, dg_variant="pv_single_point")
    assert resp.policy.unit == UNIT
    assert resp.policy.chain == ["national", UNIT]
    for m in resp.monitors:
        assert ".txt" in m.source or "DESIGN.md" in m.source, m.id
        if m.state == "running":
            assert all(t.due_at is not None for t in m.thresholds), m.id
