"""Seed 001 (国网上海市电力公司, 国网上电司销〔2018〕1839号, plan for 2019-2020): its numbers, read
back out of the engine through the deadline preview.

Shanghai's limits are in 天 (plain calendar days, reading 1-a of
docs/policy-notes-seeds-001-004.md): a deadline may fall on a weekend. Expected instants are
worked out by hand, never read from the pack file.
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

UNIT = "shanghai"
SEED = "001_2f652a1a7e287c64.txt"


DEFAULTS: dict[str, Any] = {
    "business_type": "hv",
    "voltage": "10kV",
    "capacity_kva": 630,
    "area": "urban",
}


def ask(events: tuple[tuple[str, datetime], ...] = (), **body: Any) -> PreviewResponse:
    return preview_for(UNIT, events, DEFAULTS, **body)


# ---------------------------------------------------------------- construction: 30 / 5 days


def test_ten_kv_construction_30_plain_days() -> None:
    """L29: 10千伏施工期限原则上不超过30天. Works started Fri 20 Nov 09:00: 30 plain days end
    on Sunday 20 Dec 09:00 (weekends count); blue 2 days earlier."""
    started = at(2026, 11, 20)
    resp = ask(grid_works={"type": "overhead_line"}, events=(("grid_works.started", started),))
    works = mon(resp, "hv.grid_works.construction")
    assert lim(works.provincial_limit) == (30, "day")
    assert works.national_limit is None
    assert dues(works) == {"blue": at(2026, 12, 18), "yellow": at(2026, 12, 20)}
    assert dues(works)["yellow"] != plus_workdays(started, 30)
    assert works.source.startswith(SEED)
    assert "plain_days" in works.flags
    # No recipients in the document: the national default roles; a coordination item.
    assert works.recipients["yellow"][:2] == ["customer_manager", "connection_specialist"]
    assert "coordinator" in works.recipients["yellow"]
    # The national supporting-works monitor (国网 60 working days from the plan reply) is kept.
    national = mon(resp, "hv.grid_works")
    assert lim(national.national_limit) == (60, "workday")
    assert national.provincial_limit is None


def test_construction_limit_not_stated_for_20kv() -> None:
    resp = ask(voltage="20kV", grid_works={"type": "overhead_line"})
    assert "hv.grid_works.construction" not in ids(resp)
    assert "hv.grid_works" in ids(resp)


def test_small_micro_construction_5_plain_days() -> None:
    """L29: 小微企业客户不超过5天. Works started Fri 20 Nov 09:00 → Wed 25 Nov 09:00 (five working
    days would end Fri 27 Nov)."""
    started = at(2026, 11, 20)
    resp = ask(
        business_type="lv_small_micro",
        voltage="380V",
        grid_works={"type": "lv_small_micro"},
        events=(("grid_works.started", started),),
    )
    works = mon(resp, "lv_small_micro.grid_works.construction")
    assert lim(works.provincial_limit) == (5, "day")
    assert dues(works) == {"blue": at(2026, 11, 23), "yellow": at(2026, 11, 25)}
    assert plus_workdays(started, 5) == at(2026, 11, 27)


def test_small_micro_energised_the_day_the_works_finish() -> None:
    """L79: 涉及配套电网工程建设的，在工程完工当日装表送电."""
    finished = at(2026, 11, 24, 14)
    body: dict[str, Any] = {
        "business_type": "lv_small_micro",
        "voltage": "380V",
        "grid_works": {"type": "lv_small_micro"},
    }
    resp = ask(events=(("grid_works.completed", finished),), **body)
    same_day = mon(resp, "lv_small_micro.energize_same_day")
    assert dues(same_day) == {"yellow": at(2026, 11, 25, 0)}
    met = ask(
        events=(
            ("grid_works.completed", finished),
            ("meter_install.completed", at(2026, 11, 24, 18)),
        ),
        **body,
    )
    assert mon(met, "lv_small_micro.energize_same_day").state == "met"
    late = ask(
        events=(
            ("grid_works.completed", finished),
            ("meter_install.completed", at(2026, 11, 25, 10)),
        ),
        **body,
    )
    assert mon(late, "lv_small_micro.energize_same_day").state == "breached"


def test_construction_limits_in_force_from_2019() -> None:
    shanghai = {
        "hv.grid_works.construction",
        "lv_small_micro.grid_works.construction",
        "lv_small_micro.energize_same_day",
    }
    before = ask(accepted_at=at(2018, 12, 28).isoformat(), grid_works={"type": "overhead_line"})
    assert not shanghai & ids(before)
    after = ask(accepted_at=at(2019, 1, 2).isoformat(), grid_works={"type": "overhead_line"})
    assert "hv.grid_works.construction" in ids(after)


# ---------------------------------------------------------------- what Shanghai leaves open


def test_stage_limits_fall_back_to_national() -> None:
    resp = ask()
    plan = mon(resp, "hv.plan_reply")
    assert plan.provincial_limit is None
    assert lim(plan.national_limit) == (11, "workday")
    assert [t.level for t in plan.thresholds] == ["orange", "red"]
    assert dues(plan)["red"] == plus_workdays(MON, 11)
    assert not any(SEED in s for s in plan.sources)


def test_stages_small_micro_and_non_important() -> None:
    sm = ask(business_type="lv_small_micro", voltage="380V")
    assert "plan_reply" in sm.skipped_stages  # no plan approval or reply for small/micro
    ordinary = ask()
    assert {"design_review", "mid_inspection"} <= set(ordinary.skipped_stages)
    important = ask(important=True)
    assert not {"design_review", "mid_inspection"} & set(important.skipped_stages)


# ---------------------------------------------------------------- targets and plan parameters


def test_average_connection_time_targets_per_class_and_year() -> None:
    """L65: 2019年35千伏及以上、10千伏和小微企业低压客户平均接电时间分别控制在160天、70天、15天内，
    2020年分别控制在150天、60天、10天内."""
    table = load_policy(UNIT).params["connection_time_targets"]
    assert table["source"]["file"] == SEED
    assert table["unit"] == "day"
    got = {
        (r["year"], *r["business_types"], tuple(r.get("voltages", ()))): r["average_max"]
        for r in table["rows"]
    }
    hv35 = ("35kV", "66kV", "110kV", "220kV")
    assert got == {
        (2019, "hv", hv35): 160,
        (2019, "hv", ("10kV",)): 70,
        (2019, "lv_small_micro", ()): 15,
        (2020, "hv", hv35): 150,
        (2020, "hv", ("10kV",)): 60,
        (2020, "lv_small_micro", ()): 10,
    }


def test_plan_generation_parameters() -> None:
    params = load_policy(UNIT).params
    plan = params["plan_generation"]
    assert plan["on_site_plan_reply_max_kva"] == 800
    assert plan["lv_access_max_kw_small_micro"] == 160
    works = params["supporting_works_limits"]
    assert works["small_micro_materials_delivery_max_days"] == 3
    assert works["10kV"] == {"all": 30}
    assert params["investment_boundary"]["lv_small_micro"] == "meter_box"
    assert params["stage_model"]["hv"] == [
        "申请受理",
        "现场勘查及供电方案答复",
        "外部工程实施",
        "装表接电",
    ]


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
