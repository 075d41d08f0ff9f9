"""Seed 000 (三门峡, 三电〔2020〕246号 正文): the plan rules of the henan/sanmenxia pack, read
back out of the plan engine against the document's own words."""

from __future__ import annotations

from typing import Any

import pytest

from policies.plans.plan import Plan
from tests.plans.support import Grid, lv_grid, plan_for, point_ids, reason_codes

UNIT = "henan/sanmenxia"
SEED = "000_1fb244cfb33f1f39.txt"


def hv_grid() -> Grid:
    g = Grid(unit=UNIT)
    g.point("POLE", 80, feeder="F1")
    g.point("RMU", 500, kind="ring_main_unit", feeder="F2")
    g.point(
        "BAY35",
        900,
        kind="substation_bay",
        voltage="35kV",
        feeder=g.feeder("F35", voltage="35kV", rated=40000),
    )
    return g


def small_micro(kw: float, **fields: Any) -> Plan:
    return plan_for(
        lv_grid(UNIT),
        business_type="lv_small_micro",
        voltage=None,
        capacity_kw=kw,
        small_micro=True,
        **fields,
    )


def test_small_micro_up_to_160_kw_is_connected_at_low_voltage() -> None:
    """三(三)1: "客户用电设备容量在160千瓦及以下的个体工商户和小微企业客户实行低压接入"."""
    p = small_micro(160)
    assert p.access_voltage == "380V"
    assert "160千瓦及以下" in p.decision("access_voltage").source
    assert small_micro(161).access_voltage == "10kV"


@pytest.mark.parametrize("flag", ["base_station", "petrol_station", "soe_branch", "batch"])
def test_excluded_small_micro_classes_follow_the_general_rule(flag: str) -> None:
    """三(三)1: "（不含通讯基站、加油站、国有企业及连锁集团的子公司或分公司、临时用电、
    批量报装等客户）".

    Excluded, a 120 kW business is above the general 100 kW low-voltage limit: 10 kV."""
    assert small_micro(120, flags=(flag,)).access_voltage == "10kV"
    assert small_micro(120).access_voltage == "380V"


def test_temporary_supply_is_excluded() -> None:
    """三(三)1: "…临时用电…" is not connected at low voltage as a small or micro business."""
    p = plan_for(
        lv_grid(UNIT),
        business_type="temporary",
        voltage=None,
        capacity_kw=120,
        small_micro=True,
    )
    assert p.access_voltage == "10kV"


def test_voluntary_high_voltage() -> None:
    """三(三)1: "根据客户意愿可高压接入（客户出具自愿高压接入证明）"."""
    p = small_micro(60, flags=("voluntary_hv",))
    assert p.access_voltage == "10kV"
    assert "voluntary" in p.decision("access_voltage").source


def test_ten_kv_plans_are_issued_directly_and_35_kv_go_to_joint_review() -> None:
    """三(二)2: "建立10千伏高压报装数据计算模型，自动分析电网可用资源，直接出具供电方案。
    纳入电网受限负面清单或无法自动出具供电方案的，可通过…发起专业联动出具供电方案"."""
    p = plan_for(hv_grid())
    assert p.access_voltage == "10kV" and point_ids(p) == ["POLE"] and not p.needs_joint_review
    p = plan_for(hv_grid(), voltage="35kV", capacity_kva=20000)
    assert point_ids(p) == ["BAY35"] and reason_codes(p) == ["above_auto_limit"]
    g = hv_grid()
    g.points[0] = g.points[0].model_copy(update={"restricted": True, "restricted_reason": "受限"})
    p = plan_for(g)
    assert point_ids(p) == ["RMU"] and reason_codes(p) == ["best_point_restricted"]


def test_low_voltage_plans_are_generated_without_a_person() -> None:
    """三(二)2: "400伏以下低压报装取消供电方案答复环节，…自动生成供电方案"."""
    p = plan_for(lv_grid(UNIT), business_type="lv_non_residential", voltage="380V", capacity_kw=50)
    assert point_ids(p) == ["LV1"] and not p.needs_joint_review


@pytest.mark.parametrize(
    ("flags", "fields", "code"),
    [
        (("provincial_park",), {}, "red_line"),
        (("provincial_park",), {"business_type": "temporary"}, "connection_point"),
        (("electrification_replacement",), {}, "red_line"),
        (("ev_charging",), {}, "red_line"),
        ((), {"business_type": "charging_non_residential"}, "red_line"),
        (("city_district",), {}, "red_line"),
        (("city_district",), {"voltage": "35kV", "capacity_kva": 20000}, "connection_point"),
        ((), {}, "connection_point"),
    ],
)
def test_investment_boundary_of_high_voltage_customers(
    flags: tuple[str, ...], fields: dict[str, Any], code: str
) -> None:
    """三(三)1: "对省级及以上园区内的工商业客户（不含居配工程、临时用电、农业生产、
    非居民照明等其他类型客户）、电能替代改造和新建项目…、电动汽车充换电项目和配网主网架建设
    较为完善的市本级及市辖区的全量 10kV 客户等四类高压客户…公司投资至客户规划红线";
    "不符合投资建设至规划红线的客户，原则上以…公共电网连接点作为客户接入点"."""
    p = plan_for(hv_grid(), flags=flags, **fields)
    assert p.investment_boundary.code == code
    assert p.investment_boundary.source.startswith(f"{SEED} 正文 三(三)1")


def test_investment_boundary_of_low_voltage_customers() -> None:
    """三(三)1: "执行低压接入的个体工商户和小微企业客户…公司投资至客户规划红线";
    "对公司直供的零星报装低压居民客户，公司投资建设表箱及以上供电设施"."""
    assert small_micro(100).investment_boundary.code == "red_line"
    p = plan_for(lv_grid(UNIT), business_type="lv_residential", voltage="220V", capacity_kw=8)
    assert p.investment_boundary.code == "meter_box"
    assert "表箱及以上" in p.investment_boundary.source


def test_metering_at_the_property_boundary() -> None:
    """三(三)1: "计量装置原则上应在供用电双方的产权分界点装设"."""
    p = plan_for(hv_grid())
    assert p.metering_point.code == "property_boundary"
    assert "产权分界点装设" in p.metering_point.source


@pytest.mark.parametrize(
    ("voltage", "length", "required"),
    [("10kV", 200, False), ("10kV", 201, True), ("380V", 900, False)],
)
def test_outside_line_approvals(voltage: str, length: float, required: bool) -> None:
    """三(二)6: "实现高压用电在200米（含）以内和全量低压用电的外线工程免审批…；高压用电在200米以上的
    外线工程推行并联审批…总时长不超过 3 个工作日"."""
    fields: dict[str, Any] = {"voltage": voltage, "location": None, "outside_line_m": length}
    if voltage == "380V":
        fields.update(business_type="lv_non_residential", capacity_kw=50)
    p = plan_for(Grid(unit=UNIT), **fields)
    assert p.admin_approval.required is required
    limit = p.admin_approval.limit
    assert (limit.amount, limit.unit) == (3, "workday") if limit else not required
    assert "三(二)6" in p.admin_approval.source


def test_supporting_works_and_their_limits() -> None:
    """三(二)3 配套工程建设时限表: "低压 非个体工商户和小微企业 ≤3, 个体工商户和小微企业
    ≤13; 10 千伏 线路 T 接 ≤7 …"."""
    p = plan_for(hv_grid())  # a pole 80 m away (104 m route), the customer builds its line
    assert p.supporting_works is not None and p.supporting_works.type == "t_connection"
    assert p.supporting_works.limit is not None and p.supporting_works.limit.amount == 7
    assert "配套工程建设时限表" in p.supporting_works.source
    works = small_micro(100).supporting_works
    assert works is not None and works.limit is not None
    assert (works.type, works.limit.amount) == ("lv_small_micro", 13)
    p = plan_for(lv_grid(UNIT), business_type="lv_residential", voltage="220V", capacity_kw=8)
    assert p.supporting_works is not None and p.supporting_works.limit is not None
    assert (p.supporting_works.type, p.supporting_works.limit.amount) == ("lv", 3)


def test_outage_tiers_and_live_line_work() -> None:
    """三(二)4: "35 千伏及以上报装接电纳入月停（送）电计划管理…10 千伏及以下不涉及其他客户停电的业扩
    报装工程…纳入日停（送）电计划“随到随批”。…具备不停电作业条件的，实行“随报随接”"."""
    p = plan_for(hv_grid())
    assert (p.outage_tier, p.live_line) == ("live_line", True)
    p = plan_for(hv_grid(), voltage="35kV", capacity_kva=20000)
    assert (p.outage_tier, p.live_line) == ("monthly", False)
    g = Grid(unit=UNIT)
    g.point("BAY", 100, kind="substation_bay", feeder="F1")
    p = plan_for(g)
    assert (p.outage_tier, p.live_line) == ("daily", False)
    assert "三(二)4" in p.decision("outage_tier").source
