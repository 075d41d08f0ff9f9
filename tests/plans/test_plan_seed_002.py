"""Seed 002 (潢川, 潢电〔2021〕38号): the plan rules of the henan/xinyang/huangchuan pack, read
back out of the plan engine against the document's own words."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.plans.support import CST, Grid, lv_grid, plan_for

UNIT = "henan/xinyang/huangchuan"
SEED = "002_5323f2d8d60c3421.txt"


def hv_grid() -> Grid:
    g = Grid(unit=UNIT)
    g.point("POLE", 80, feeder="F1")
    return g


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"flags": ("provincial_park",)}, "red_line"),
        ({"flags": ("provincial_park",), "business_type": "temporary"}, "connection_point"),
        ({}, "connection_point"),
    ],
)
def test_provincial_parks_get_investment_to_the_red_line(fields: dict[str, Any], code: str) -> None:
    """二(三)2(1) L65: "对省级及以上园区内的工商业客户（不含居配工程、临时用电、农业生产、非居民照明
    等其他类型客户）…公司投资至客户规划红线"."""
    p = plan_for(hv_grid(), unit=UNIT, **fields)
    assert p.investment_boundary.code == code
    if code == "red_line":
        assert p.investment_boundary.source.startswith(f"{SEED} 二(三)2(1)")


@pytest.mark.parametrize(
    "fields",
    [
        {"business_type": "lv_residential", "voltage": "220V", "capacity_kw": 8},
        {"business_type": "lv_small_micro", "small_micro": True, "capacity_kw": 60},
    ],
)
def test_low_voltage_residents_and_small_businesses_to_the_red_line(fields: dict[str, Any]) -> None:
    """二(三)2(1) L65: "…低压居民和低压小微企业，公司投资至客户规划红线"."""
    p = plan_for(lv_grid(UNIT), unit=UNIT, **{"voltage": None, **fields})
    assert p.access_voltage in ("220V", "380V")
    assert p.investment_boundary.code == "red_line"
    assert p.investment_boundary.source.startswith(f"{SEED} 二(三)2(1)")


@pytest.mark.parametrize(
    ("business_type", "voltage", "length", "required"),
    [
        ("hv", "10kV", 150, False),
        ("hv", "10kV", 151, True),
        ("lv_small_micro", "380V", 150, False),
        ("lv_non_residential", "380V", 100, True),
    ],
)
def test_approval_exemption_within_150_m(
    business_type: str, voltage: str, length: float, required: bool
) -> None:
    """二(二)2(4) L55: "低压小微企业、高压用户 150 米以内电力接入占据路许可、绿化树木许可等行政审批
    执行告知承诺备案制…免除所有行政许可手续" — other customers keep the national rule."""
    fields: dict[str, Any] = {"business_type": business_type, "voltage": voltage}
    if voltage == "380V":
        fields.update(capacity_kw=50, small_micro=business_type == "lv_small_micro")
    p = plan_for(Grid(unit=UNIT), unit=UNIT, location=None, outside_line_m=length, **fields)
    assert p.admin_approval.required is required
    # The county states no approval limit: none is invented.
    assert p.admin_approval.limit is None


def test_exemption_starts_with_the_county_document() -> None:
    """二(二)2(4): the exemption of 潢电〔2021〕38号 (2021-11-26); before it, any outside line."""
    before = datetime(2021, 11, 25, 9, tzinfo=CST)
    p = plan_for(Grid(unit=UNIT), unit=UNIT, location=None, outside_line_m=100, accepted_at=before)
    assert p.admin_approval.required is True
    after = datetime(2021, 11, 26, 9, tzinfo=CST)
    p = plan_for(Grid(unit=UNIT), unit=UNIT, location=None, outside_line_m=100, accepted_at=after)
    assert p.admin_approval.required is False


def test_outage_planning_where_live_work_is_possible() -> None:
    """二(四)2(1) L79: "推行配网停电计划“年统筹、月计划、周安排、日管控”…能带电不停电" — the
    county maps no voltage to a tier: live-line work where possible, else no tier decided."""
    p = plan_for(hv_grid(), unit=UNIT)
    assert (p.outage_tier, p.live_line) == ("live_line", True)
    assert p.decision("outage_tier").source.startswith(f"{SEED} 二(四)2(1)")
    g = Grid(unit=UNIT)
    g.point("BAY", 80, kind="substation_bay", feeder="F1")
    p = plan_for(g, unit=UNIT)
    assert (p.outage_tier, p.live_line) == (None, False)


def test_small_micro_access_is_the_national_default() -> None:
    """The county states no access threshold: the national 160 kW default (001 四(三)13)."""
    p = plan_for(
        lv_grid(UNIT),
        unit=UNIT,
        business_type="lv_small_micro",
        voltage=None,
        capacity_kw=160,
        small_micro=True,
    )
    assert p.access_voltage == "380V"
    assert "project default" in p.decision("access_voltage").source
