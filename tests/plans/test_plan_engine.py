"""The plan engine on hand-made grids: choosing points, two sources, joint review, and every
decision citing its clause."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from policies.loader import PolicyError, load_policy
from policies.plans.engine import plan
from policies.plans.rules import PlanRulesError, plan_rules
from tests.plans.support import ORIGIN, Grid, lv_grid, plan_for, point_ids, reason_codes, request


def test_nearest_point_with_room_is_chosen_and_its_capacity_reserved() -> None:
    g = Grid()
    g.point("FAR", 900, feeder="F1")
    g.point("NEAR", 300, feeder="F2")
    p = plan_for(g)
    assert point_ids(p) == ["NEAR"]
    src = p.power_sources[0]
    # Route = haversine × the national route factor 1.3 (300 m east → 390 m).
    assert src.route_m == pytest.approx(390, abs=0.5)
    assert (src.reserve.on, src.reserve.id, src.reserve.kva) == ("feeder", "F2", 630)
    assert src.connection_point.substation == "S1"
    assert p.outside_line_m == src.route_m
    assert not p.needs_joint_review


def test_restricted_point_is_skipped_and_sends_the_plan_to_joint_review() -> None:
    g = Grid()
    g.point("RESTRICTED", 100, feeder="F1", restricted=True)
    g.point("OPEN", 400, feeder="F2")
    p = plan_for(g)
    assert point_ids(p) == ["OPEN"]
    assert p.needs_joint_review and reason_codes(p) == ["best_point_restricted"]
    assert "RESTRICTED" in p.reasons[0].detail and "主变重载" in p.reasons[0].detail


def test_restricted_point_farther_than_the_choice_is_no_reason() -> None:
    g = Grid()
    g.point("OPEN", 100, feeder="F1")
    g.point("RESTRICTED", 400, feeder="F2", restricted=True)
    p = plan_for(g)
    assert point_ids(p) == ["OPEN"] and not p.needs_joint_review


def test_capacity_exhausted_goes_to_the_next_point() -> None:
    g = Grid()
    # 10,000 kVA × 0.8 loading limit − 7,600 used = 400 kVA open: not enough for 630 kVA.
    g.feeder("FULL", rated=10000, used=7600)
    g.point("NEAR_FULL", 100, feeder="FULL")
    g.point("NEXT", 700, feeder="F2")
    p = plan_for(g)
    assert point_ids(p) == ["NEXT"] and not p.needs_joint_review
    # Exactly enough open is enough.
    g.feeder("FULL", rated=10000, used=8000 - 630)
    assert point_ids(plan_for(g)) == ["NEAR_FULL"]


def test_reserved_capacity_counts_as_taken() -> None:
    g = Grid()
    g.feeder("F1", rated=10000, used=7000)
    g.feeders["F1"] = g.feeders["F1"].model_copy(update={"reserved_kva": 500})
    g.point("NEAR", 100, feeder="F1")
    g.point("NEXT", 700, feeder="F2")
    assert point_ids(plan_for(g)) == ["NEXT"]


def test_no_feasible_point_needs_joint_review_and_names_no_point() -> None:
    g = Grid()
    g.feeder("FULL", used=8000)
    g.point("FULL1", 100, feeder="FULL")
    g.point("LV_ONLY", 50, kind="lv_pillar", voltage="380V", transformer=g.transformer("T1", "F9"))
    p = plan_for(g)
    assert p.power_sources == [] and p.needs_joint_review
    assert reason_codes(p) == ["no_feasible_point"]
    assert "1 without room" in p.reasons[0].detail
    assert p.supporting_works is None and p.outside_line_m is None


def test_point_beyond_the_longest_route_is_not_proposed() -> None:
    g = lv_grid(east_m=450)  # 450 m × 1.3 = 585 m > the 500 m low-voltage limit
    p = plan_for(g, business_type="lv_non_residential", voltage="380V", capacity_kw=50)
    assert p.access_voltage == "380V" and p.power_sources == []
    assert reason_codes(p) == ["no_feasible_point"]


def test_dual_supply_from_different_feeders() -> None:
    g = Grid()
    g.point("A", 100, feeder="F1", kind="ring_main_unit")
    g.point("A_SAME_FEEDER", 150, feeder="F1")
    g.point("B", 600, feeder="F2")
    p = plan_for(g, dual_power=True)
    assert point_ids(p) == ["A", "B"]
    assert p.decision("power_source_count").value == 2
    assert not p.needs_joint_review


def test_important_customer_sources_come_from_different_substations() -> None:
    g = Grid()
    g.feeder("F1", sub="S1")
    g.feeder("F2", sub="S1")
    g.feeder("F3", sub="S2")
    g.point("A", 100, feeder="F1")
    g.point("SAME_SUBSTATION", 200, feeder="F2")
    g.point("OTHER_SUBSTATION", 800, feeder="F3")
    p = plan_for(g, important=True)
    assert point_ids(p) == ["A", "OTHER_SUBSTATION"]
    assert [s.connection_point.substation for s in p.power_sources] == ["S1", "S2"]
    # The sources are found, but an important customer's plan is a person's to confirm.
    assert reason_codes(p) == ["class_needs_person"]


def test_second_source_missing_is_a_reason() -> None:
    g = Grid()
    g.point("A", 100, feeder="F1")
    g.point("A2", 200, feeder="F1")
    p = plan_for(g, dual_power=True)
    assert point_ids(p) == ["A"] and reason_codes(p) == ["no_second_source"]


def test_low_voltage_customer_connects_to_a_low_voltage_point() -> None:
    p = plan_for(lv_grid(), business_type="lv_non_residential", voltage="380V", capacity_kw=50)
    assert p.access_voltage == "380V" and point_ids(p) == ["LV1"]
    assert p.power_sources[0].reserve.on == "transformer"
    assert p.power_sources[0].connection_point.feeder == "F1"


def test_no_location_with_a_measured_line_gives_the_rest_of_the_plan() -> None:
    p = plan_for(Grid(), location=None, outside_line_m=260)
    assert p.power_sources == [] and reason_codes(p) == ["no_location"]
    assert p.outside_line_m == 260
    assert p.decision("outside_line_m").source.startswith("application")
    assert p.admin_approval.required is True  # Sanmenxia: above 200 m


def test_voltage_differing_from_the_application_is_a_persons_call() -> None:
    p = plan_for(lv_grid(), business_type="lv_non_residential", voltage="10kV", capacity_kw=50)
    assert p.access_voltage == "380V" and "voltage_mismatch" in reason_codes(p)


def test_three_phase_asked_where_single_phase_would_do_is_kept() -> None:
    p = plan_for(lv_grid(), business_type="lv_residential", voltage="380V", capacity_kw=6)
    assert p.access_voltage == "380V" and not p.needs_joint_review
    p = plan_for(lv_grid(), business_type="lv_residential", voltage=None, capacity_kw=6)
    assert p.access_voltage == "220V"


def test_capacity_in_one_unit_is_converted_and_the_conversion_recorded() -> None:
    p = plan_for(Grid(), capacity_kva=None, capacity_kw=900, location=None, outside_line_m=10)
    assert p.capacity_kva == pytest.approx(1000)
    assert "power factor 0.9" in p.decision("capacity_kva").source


def test_every_decision_cites_a_clause() -> None:
    g = Grid()
    g.point("A", 100, feeder="F1")
    p = plan_for(g)
    fields = [d.field for d in p.decisions]
    for name in (
        "access_voltage",
        "power_sources[0]",
        "investment_boundary",
        "metering_point",
        "outside_line_m",
        "supporting_works",
        "admin_approval.required",
        "outage_tier",
        "live_line",
        "validity_months",
    ):
        assert name in fields
    for d in p.decisions:
        assert d.source.startswith(("000_", "001_", "002_", "003_", "004_", "DESIGN.md")), d


def test_thirty_five_kv_is_above_what_the_engine_decides_alone() -> None:
    p = plan_for(Grid(), capacity_kva=20000, voltage="35kV", location=None, outside_line_m=10)
    assert p.access_voltage == "35kV" and reason_codes(p) == ["above_auto_limit", "no_location"]


def test_engine_is_deterministic_and_refuses_another_units_policy() -> None:
    g = Grid()
    g.point("A", 100, feeder="F1")
    snap = g.snapshot()
    req = request()
    assert plan(req, snap, load_policy("henan/sanmenxia")) == plan(
        req, snap, load_policy("henan/sanmenxia")
    )
    with pytest.raises(ValueError, match="unit"):
        plan(req, snap, load_policy("shanghai"))


def test_request_refuses_what_a_plan_cannot_be_made_of() -> None:
    with pytest.raises(ValidationError, match="capacity_kva"):
        request(capacity_kva=None)
    with pytest.raises(ValidationError, match="location"):
        request(location=None)
    with pytest.raises(ValidationError, match="no supply plan"):
        request(business_type="suspension")
    assert request(location={"lon": ORIGIN.lon, "lat": ORIGIN.lat}).location == ORIGIN


def _pack_root(tmp_path: Path, plan_table: str) -> Path:
    root = tmp_path / "packs"
    root.mkdir()
    national = Path("policies/packs/national.toml").read_text(encoding="utf-8")
    (root / "national.toml").write_text(national + "\n" + plan_table, encoding="utf-8")
    return root


def test_loader_refuses_a_plan_table_without_a_source(tmp_path: Path) -> None:
    root = _pack_root(tmp_path, '[params.plan_extra]\nrule = "x"\n')
    with pytest.raises(PolicyError, match=r"params\.plan_extra\.source"):
        load_policy("national", root)


def test_loader_refuses_a_malformed_plan_table(tmp_path: Path) -> None:
    text = Path("policies/packs/national.toml").read_text(encoding="utf-8")
    root = tmp_path / "packs"
    root.mkdir()
    bad = text.replace("route_factor = 1.3", "route_factor = 0.5")
    (root / "national.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(PolicyError, match=r"params\.plan_routing\.route_factor"):
        load_policy("national", root)
    bad = text.replace('voluntary_hv = "', 'voluntary_hv_x = "')
    (root / "national.toml").write_text(bad, encoding="utf-8")
    load_policy("national", root)  # the national classes name no voluntary flag
    unknown = text.replace(
        "when = { important = true }, source", 'when = { flags = ["nope"] }, source'
    )
    (root / "national.toml").write_text(unknown, encoding="utf-8")
    with pytest.raises(PolicyError, match=r"params\.plan_review\.rules\[1\]\.when\.flags"):
        load_policy("national", root)


def test_a_policy_without_plan_tables_is_refused_by_name(tmp_path: Path) -> None:
    policy = load_policy("national")
    stripped = policy.model_copy(
        update={"params": {k: v for k, v in policy.params.items() if k != "plan_routing"}}
    )
    with pytest.raises(PlanRulesError, match=r"params\.plan_routing"):
        plan_rules(stripped)
