"""Seed 004 (烟台, 烟发改能源〔2020〕205号): the plan rules of the shandong/yantai pack, read back
out of the plan engine against the document's own words."""

from __future__ import annotations

from typing import Any

import pytest

from policies.plans.plan import Plan
from tests.plans.support import Grid, lv_grid, plan_for, reason_codes

UNIT = "shandong/yantai"
SEED = "004_7b2ceeea3a571885.txt"


def enterprise(kva: float, area: str | None, **fields: Any) -> Plan:
    data: dict[str, Any] = {
        "business_type": "lv_non_residential",
        "voltage": None,
        "capacity_kva": kva,
        "area": area,
    }
    data.update(fields)
    return plan_for(lv_grid(UNIT), unit=UNIT, **data)


@pytest.mark.parametrize(
    ("area", "kva", "voltage"),
    [
        ("urban", 160, "380V"),
        ("urban", 161, "10kV"),
        ("rural", 100, "380V"),
        ("rural", 101, "10kV"),
    ],
)
def test_enterprise_low_voltage_access_by_area(area: str, kva: float, voltage: str) -> None:
    """一.3 L24: "城市规划区160千伏安及以下、农村地区100千伏安及以下企业客户，采取低压方式
    接入电网"."""
    p = enterprise(kva, area)
    assert p.access_voltage == voltage
    if voltage == "380V":
        assert p.decision("access_voltage").source.startswith(f"{SEED} 一.3")


def test_unknown_area_is_asked_not_guessed() -> None:
    p = enterprise(130, None)
    assert p.access_voltage == "10kV" and "area_unknown" in reason_codes(p)
    assert enterprise(90, None).needs_joint_review is False


def test_an_hv_application_that_the_rule_puts_at_low_voltage_goes_to_a_person() -> None:
    p = enterprise(150, "urban", business_type="hv", voltage="10kV")
    assert p.access_voltage == "380V" and reason_codes(p) == ["voltage_mismatch"]


def test_low_voltage_enterprises_get_investment_to_the_meter() -> None:
    """一.3 L24: "…企业客户，采取低压方式接入电网，电网企业投资至电能表"."""
    p = enterprise(150, "urban")
    assert p.investment_boundary.code == "meter"
    assert p.investment_boundary.source.startswith(f"{SEED} 一.3")


def hv_grid() -> Grid:
    g = Grid(unit=UNIT)
    g.point("POLE", 400, feeder="F1")
    return g


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"flags": ("investment_to_red_line",)}, "red_line"),
        ({"flags": ("provincial_park",)}, "red_line"),
        ({}, "ring_main_unit_or_pole_switch"),
        (
            {"voltage": "35kV", "capacity_kva": 20000, "location": None, "outside_line_m": 10},
            "connection_point",
        ),
    ],
)
def test_ten_kv_investment_boundaries(fields: dict[str, Any], code: str) -> None:
    """一.3 L24: "省级及以上园区和纳入省级新旧动能转换项目库的10千伏企业用户，电网企业投资界面延伸至
    用户规划红线（不含电缆下地引起的土建投资），其他用户投资到环网柜或柱上开关"."""
    p = plan_for(hv_grid(), unit=UNIT, **fields)
    assert p.investment_boundary.code == code


def test_company_builds_the_line_to_its_switch() -> None:
    """The company invests to a ring-main unit or pole switch near the customer: from a pole
    520 m of route away that is a new overhead line; Yantai tables no construction limit."""
    p = plan_for(hv_grid(), unit=UNIT)
    assert p.supporting_works is not None
    assert (p.supporting_works.type, p.supporting_works.limit) == ("overhead_line", None)


@pytest.mark.parametrize(
    ("length", "flags", "required"),
    [(300, (), False), (301, (), True), (100, ("main_road",), True)],
)
def test_approval_exemption_within_300_m_except_main_roads(
    length: float, flags: tuple[str, ...], required: bool
) -> None:
    """一.5 L28: "管线长度 300 米及以下电力接入外线工程免除所有行政许可手续（在城市主次干道、平交
    路口、交通繁忙重点路段等挖掘占路施工的除外），管线长度 300 米以上的所有行政许可并联办理，审批
    时限不超过 2 个工作日"."""
    p = plan_for(Grid(unit=UNIT), unit=UNIT, location=None, outside_line_m=length, flags=flags)
    assert p.admin_approval.required is required
    limit = p.admin_approval.limit
    assert ((limit.amount, limit.unit) if limit else None) == ((2, "workday") if required else None)
    assert p.admin_approval.source.startswith(f"{SEED} 一.5")
