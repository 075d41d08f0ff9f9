"""Seed 003 (吉林省地方电力, 靖宇分公司 2022): the plan rules of the jilin-local packs, read back
out of the plan engine against the document's own words."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from policies.plans.plan import Plan
from tests.plans.support import CST, Grid, lv_grid, plan_for, reason_codes

UNIT = "jilin-local/jingyu"
SEED = "003_2b29736945fdc099.txt"


def small_micro(kw: float, year: int, area: str | None, **fields: Any) -> Plan:
    g = lv_grid(UNIT)
    g.transformer("T1", "F1", rated=1000)
    return plan_for(
        g,
        unit=UNIT,
        business_type="lv_small_micro",
        voltage=None,
        capacity_kw=kw,
        small_micro=True,
        area=area,
        accepted_at=datetime(year, 6, 1, 9, tzinfo=CST),
        **fields,
    )


@pytest.mark.parametrize(
    ("year", "area", "kw", "code"),
    [
        (2021, "urban", 160, "meter"),
        (2021, "rural", 100, "meter"),
        (2021, "rural", 101, "connection_point"),
        (2022, "rural", 160, "meter"),
        (2023, "urban", 160, "meter"),
        (2020, "urban", 100, "connection_point"),
    ],
)
def test_zero_investment_by_year_and_area(year: int, area: str, kw: float, code: str) -> None:
    """任务10 L54: "2021年底前，实现城市地区用电报装容量160KW及以下，农村地区100KW及以下的小微企业
    用电报装“零投资”；2022年底前，实现全地区160KW及以下的小微企业用电报装“零投资”" — the
    boundary is the meter: "逐步将电网投资界面延伸至…低压小微企业用户（含计量装置）"."""
    p = small_micro(kw, year, area)
    assert p.access_voltage == "380V"
    assert p.investment_boundary.code == code
    if code == "meter":
        assert p.investment_boundary.source.startswith(f"{SEED} 任务10")


def test_unknown_area_is_asked_not_guessed() -> None:
    """In 2021 the urban and rural thresholds differ: without the area a person decides."""
    p = small_micro(120, 2021, None)
    assert p.investment_boundary.code == "connection_point"  # shown for rural
    assert reason_codes(p) == ["area_unknown"]
    assert small_micro(120, 2022, None).needs_joint_review is False


@pytest.mark.parametrize(
    ("business_type", "kw"), [("lv_small_micro", 160), ("lv_residential", 150)]
)
def test_three_zero_customers_up_to_160_kw_at_low_voltage(business_type: str, kw: float) -> None:
    """任务10 L54: "用电报装容量160KW及以下实行“三零”服务的用户采取低压方式接入电网"; 二 L27:
    "实现居民用户和低压小微企业用电报装“三零”服务"."""
    fields = {"small_micro": business_type == "lv_small_micro"}
    p = plan_for(
        lv_grid(UNIT),
        unit=UNIT,
        business_type=business_type,
        voltage=None,
        capacity_kw=kw,
        **fields,
    )
    assert p.access_voltage == "380V"
    assert p.decision("access_voltage").source.startswith(f"{SEED} 任务10")


@pytest.mark.parametrize(
    ("fields", "limit"),
    [
        ({"business_type": "lv_non_residential", "voltage": "380V", "capacity_kw": 50}, 5),
        ({"business_type": "hv", "voltage": "10kV"}, 10),
        ({"business_type": "hv", "voltage": "35kV", "capacity_kva": 20000}, None),
    ],
)
def test_approval_limits(fields: dict[str, Any], limit: int | None) -> None:
    """二 L27; 任务4 L38: "低压、10千伏及以下高压电力工程接入审批时限分别压减至5个、10个
    工作日以内"."""
    p = plan_for(Grid(unit=UNIT), unit=UNIT, location=None, outside_line_m=80, **fields)
    assert p.admin_approval.required is True  # no exemption stated
    got = p.admin_approval.limit
    assert (got.amount if got else None) == limit
    assert p.admin_approval.source.startswith(f"{SEED} 二 L27")


def test_dual_supply_plans_are_not_answered_on_the_spot() -> None:
    """任务2 L34: "对10千伏客户单电源小容量用户，实现供电方案现场答复"."""
    g = Grid(unit=UNIT)
    g.point("A", 100, feeder=g.feeder("F1", sub="S1"))
    g.point("B", 300, feeder=g.feeder("F2", sub="S2"))
    assert plan_for(g, unit=UNIT).needs_joint_review is False
    p = plan_for(g, unit=UNIT, dual_power=True)
    assert len(p.power_sources) == 2 and reason_codes(p) == ["class_needs_person"]
    assert p.reasons[0].source.startswith(f"{SEED} 任务2")
