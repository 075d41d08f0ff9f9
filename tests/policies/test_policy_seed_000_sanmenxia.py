"""Seed 000, body (三门峡): whole-process limits, approvals, outage tiers, stage counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from policies.loader import load_policy
from policies.params import (
    admin_approval,
    application_documents,
    outage_plan_tier,
    supporting_works_limit,
    warning_notifications,
)
from policies.preview import PreviewResponse
from tests.policies.seed_support import MON, mon, plus_workdays, preview_for

UNIT = "henan/sanmenxia"


DEFAULTS: dict[str, Any] = {"business_type": "hv", "voltage": "10kV"}


def ask(events: tuple[tuple[str, datetime], ...] = (), **body: Any) -> PreviewResponse:
    return preview_for(UNIT, events, DEFAULTS, **body)


def test_hv_16_working_days_without_grid_works_21_for_important() -> None:
    events = (
        ("grid_works.started", plus_workdays(MON, 3)),
        ("grid_works.completed", plus_workdays(MON, 13)),
    )
    gw = {"type": "overhead_line", "voltage": "10kV"}
    plain = mon(ask(events, grid_works=gw), "hv.full_process")
    assert plain.thresholds[-1].level == "yellow"
    assert plain.thresholds[-1].due_at == plus_workdays(MON, 16 + 10)
    important = mon(ask(events, grid_works=gw, important=True), "hv.full_process")
    assert important.provincial_limit is not None
    assert important.provincial_limit.amount == 21
    assert important.thresholds[-1].due_at == plus_workdays(MON, 21 + 10)
    # The city restates the provincial 16 days: both clauses are recorded.
    assert any("附件4 一" in s for s in plain.sources)
    assert any("正文" in s for s in plain.sources)


@pytest.mark.parametrize(("length", "monitored"), [(150, False), (200, False), (201, True)])
def test_outside_line_approval_exemption_at_200_m(length: float, monitored: bool) -> None:
    events = (("admin_approval.started", MON),) if monitored else ()
    resp = ask(events, outside_line_m=length)
    ids = {m.id for m in resp.monitors}
    assert ("admin_approval" in ids) is monitored
    if monitored:
        m = mon(resp, "admin_approval")
        assert m.provincial_limit is not None and m.provincial_limit.amount == 3
        assert {t.level: t.due_at for t in m.thresholds} == {
            "blue": plus_workdays(MON, 2),
            "yellow": plus_workdays(MON, 3),
        }
    else:
        assert "admin_approval" in resp.skipped_stages


def test_low_voltage_outside_lines_are_always_exempt() -> None:
    resp = ask(business_type="lv_non_residential", voltage="380V", outside_line_m=900)
    assert "admin_approval" in resp.skipped_stages
    policy = load_policy(UNIT)
    lv = admin_approval(policy, "380V", 900)
    assert lv is not None and lv.value["required"] is False
    hv = admin_approval(policy, "10kV", 200)
    assert hv is not None and hv.value["required"] is False
    hv = admin_approval(policy, "10kV", 200.5)
    assert hv is not None and hv.value["required"] is True
    assert hv.value["limit"].amount == 3
    assert "三(二)6" in hv.source


@pytest.mark.parametrize(
    ("voltage", "others", "live", "tier"),
    [
        ("110kV", True, False, "monthly"),
        ("35kV", True, False, "monthly"),
        ("10kV", True, False, "biweekly"),
        ("10kV", False, False, "daily"),
        ("380V", False, False, "daily"),
        ("35kV", False, True, "live_line"),
    ],
)
def test_outage_plan_tiers(voltage: str, others: bool, live: bool, tier: str) -> None:
    answer = outage_plan_tier(load_policy(UNIT), voltage, others, live)
    assert answer is not None and answer.value == tier


def test_supporting_works_table() -> None:
    policy = load_policy(UNIT)
    for works, voltage, days in [
        ("lv", "380V", 3),
        ("lv_small_micro", "220V", 13),
        ("t_connection", "10kV", 7),
        ("substation_bay", "10kV", 60),
        ("cable_line", "35kV", 120),
        ("cable_line", "110kV", 180),
    ]:
        answer = supporting_works_limit(policy, works, voltage)
        assert answer is not None and answer.value.amount == days, (works, voltage)
    assert supporting_works_limit(policy, "t_connection", "110kV") is None


def test_application_document_checklists() -> None:
    policy = load_policy(UNIT)
    docs = application_documents(policy, "lv_residential")
    assert docs is not None and docs.value == ["身份证明", "产权证明"]
    docs = application_documents(policy, "base_station_5g")
    assert docs is not None and docs.value[1].startswith("报装地址列表")
    assert "附件1" in docs.source


def test_sms_rules() -> None:
    answer = warning_notifications(load_policy(UNIT))
    assert answer is not None
    assert answer.value["sms_send_times"] == ["08:30", "11:30", "15:30"]
    assert answer.value["sms_send_window_minutes"] == 30
    assert answer.value["sms_dedup_key"] == ["application_no", "stage", "level", "phone"]
    assert answer.value["refresh_times"] == ["03:30", "09:30", "11:30", "15:30", "17:30"]


def test_stage_counts() -> None:
    counts = load_policy(UNIT).params["stage_counts"]
    assert (counts["lv_max"], counts["lv_residential_and_small_micro"]) == (3, 2)
    assert counts["lv_small_micro_proactive"] == 1
    assert (counts["hv_max"], counts["hv_red_line_or_no_external_works"]) == (4, 3)
    assert counts["hv_proactive"] == 2
