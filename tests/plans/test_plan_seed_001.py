"""Seed 001 (上海, 2019-2020 行动方案): the plan rules of the shanghai pack, read back out of the
plan engine against the document's own words."""

from __future__ import annotations

from typing import Any

import pytest

from policies.plans.plan import Plan
from tests.plans.support import Grid, lv_grid, plan_for, point_ids, reason_codes

UNIT = "shanghai"
SEED = "001_2f652a1a7e287c64.txt"


def hv_grid() -> Grid:
    g = Grid(unit=UNIT)
    g.point("POLE", 80, feeder="F1")
    g.point("RMU", 500, kind="ring_main_unit", feeder="F2")
    return g


def small_micro(kw: float, **fields: Any) -> Plan:
    return plan_for(
        lv_grid(UNIT),
        unit=UNIT,
        business_type="lv_small_micro",
        voltage=None,
        capacity_kw=kw,
        small_micro=True,
        **fields,
    )


def test_small_micro_up_to_160_kw_all_at_low_voltage() -> None:
    """四(三)13: "对小微企业客户，160 千瓦及以下客户全部采取低压接入方式" — 全部: no exclusions."""
    p = small_micro(160, flags=("petrol_station",))
    assert p.access_voltage == "380V"
    assert p.decision("access_voltage").source.startswith(f"{SEED} 四(三)13")
    assert small_micro(161).access_voltage == "10kV"


def test_nearest_open_point_first_come_first_served() -> None:
    """四(三)13: "公布本地区可开放容量等电网资源信息，实行客户先到先得、就近接入"."""
    g = hv_grid()
    assert point_ids(plan_for(g, unit=UNIT)) == ["POLE"]
    g.feeder("F1", used=7900)  # the nearest feeder's open capacity is taken
    assert point_ids(plan_for(g, unit=UNIT)) == ["RMU"]


@pytest.mark.parametrize(("kva", "review"), [(800, False), (801, True)])
def test_plans_above_800_kva_are_co_signed(kva: float, review: bool) -> None:
    """四(二)8: "推行800千伏安及以下高压客户供电方案现场答复，800千伏安以上高压客户供电方案网上会签
    或集中会审"."""
    p = plan_for(hv_grid(), unit=UNIT, capacity_kva=kva)
    assert p.needs_joint_review is review
    if review:
        assert reason_codes(p) == ["above_auto_limit"]
        assert p.reasons[0].source.startswith(f"{SEED} 四(二)8")


def test_small_micro_investment_to_the_meter_box() -> None:
    """四(三)12: "对小微企业客户，继续延伸电网投资界面至客户电能计量表箱"."""
    p = small_micro(100)
    assert p.investment_boundary.code == "meter_box"
    assert p.investment_boundary.source.startswith(f"{SEED} 四(三)12")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"flags": ("electrification_replacement",)}, "red_line"),
        ({"flags": ("ev_charging",)}, "red_line"),
        ({"business_type": "charging_non_residential"}, "red_line"),
        ({}, "connection_point"),
    ],
)
def test_company_invests_in_electrification_and_charging(fields: dict[str, Any], code: str) -> None:
    """四(三)12: "对大中型企业客户，公司承担电能替代、充换电设施和光伏等项目业扩工程投资"."""
    assert plan_for(hv_grid(), unit=UNIT, **fields).investment_boundary.code == code


def test_construction_limits_in_days() -> None:
    """二 L27-L29: "10千伏施工期限原则上不超过30天，小微企业客户不超过5天" (plain days)."""
    p = plan_for(hv_grid(), unit=UNIT)
    works = p.supporting_works
    assert works is not None and works.limit is not None
    assert (works.type, works.limit.amount, works.limit.unit) == ("t_connection", 30, "day")
    works = small_micro(100).supporting_works
    assert works is not None and works.limit is not None
    assert (works.type, works.limit.amount, works.limit.unit) == ("lv_small_micro", 5, "day")


def test_approval_without_an_exemption_or_a_stated_limit() -> None:
    """四(二)10: "推进10千伏高压用户电力接入工程占掘路等行政审批时间按照低压小微企业时限标准执行" —
    no exemption and no number: needed for any outside line, limit not invented."""
    p = plan_for(Grid(unit=UNIT), unit=UNIT, location=None, outside_line_m=50)
    assert p.admin_approval.required is True and p.admin_approval.limit is None
    assert p.admin_approval.source.startswith(f"{SEED} 四(二)10")
