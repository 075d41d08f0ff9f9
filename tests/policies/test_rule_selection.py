"""Rule selection: which conditions hold for an application, which rules apply to it, and that
what `select_rules` keeps (what a workflow carries) is exactly what an evaluation uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from calendars import get_calendar
from policies.codes import BUSINESS_TYPES, STAGE_ORDER
from policies.engine import Evaluation, Event, RuleIndex, evaluate, select_rules
from policies.engine.matching import Facts
from policies.loader import list_units, load_policy
from policies.profile import ApplicationProfile, GridWorks
from policies.schema import Condition, ResolvedPolicy

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 11, 16, 9, tzinfo=CST)
CAL = get_calendar("CN")
HENAN = load_policy("henan/sanmenxia")


def profile(unit: str = "henan/sanmenxia", **fields: Any) -> ApplicationProfile:
    fields.setdefault("business_type", "hv")
    fields.setdefault("accepted_at", T0)
    return ApplicationProfile(unit=unit, **fields)


# ---------------------------------------------------------------------------- conditions

HV_10KV = {"business_type": "hv", "voltage": "10kV"}

MATCHES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("no condition", {}, HV_10KV, True),
    ("business type", {"business_types": ["hv"]}, HV_10KV, True),
    ("other business type", {"business_types": ["dg_hv"]}, HV_10KV, False),
    (
        "small/micro non-residential is also lv_small_micro",
        {"business_types": ["lv_small_micro"]},
        {"business_type": "lv_non_residential", "small_micro": True},
        True,
    ),
    (
        "non-residential is not lv_small_micro by itself",
        {"business_types": ["lv_small_micro"]},
        {"business_type": "lv_non_residential"},
        False,
    ),
    ("voltage", {"voltages": ["10kV", "20kV"]}, HV_10KV, True),
    ("other voltage", {"voltages": ["35kV"]}, HV_10KV, False),
    ("dual power asked, not given", {"dual_power": True}, HV_10KV, False),
    ("dual power", {"dual_power": True}, {**HV_10KV, "dual_power": True}, True),
    ("important", {"important": False}, {**HV_10KV, "important": True}, False),
    ("area unknown", {"area": "urban"}, HV_10KV, False),
    ("area", {"area": "rural"}, {**HV_10KV, "area": "rural"}, True),
    ("grid works needed, none", {"grid_works": True}, HV_10KV, False),
    ("no grid works", {"grid_works": False}, HV_10KV, True),
    (
        "grid works type",
        {"grid_works_types": ["overhead_line"]},
        {**HV_10KV, "grid_works": GridWorks(type="overhead_line")},
        True,
    ),
    (
        "grid works voltage defaults to the application's",
        {"grid_works_voltages": ["10kV"]},
        {**HV_10KV, "grid_works": GridWorks(type="overhead_line")},
        True,
    ),
    (
        "grid works voltage of its own",
        {"grid_works_voltages": ["10kV"]},
        {**HV_10KV, "grid_works": GridWorks(type="substation_bay", voltage="35kV")},
        False,
    ),
    ("grid works voltage without grid works", {"grid_works_voltages": ["10kV"]}, HV_10KV, False),
    ("channel", {"channels": ["online", "phone"]}, {**HV_10KV, "channel": "online"}, True),
    ("default channel is the counter", {"channels": ["online"]}, HV_10KV, False),
    ("capacity above", {"capacity_kva_gt": 100}, {**HV_10KV, "capacity_kva": 100}, False),
    ("capacity up to", {"capacity_kva_le": 100}, {**HV_10KV, "capacity_kva": 100}, True),
    ("capacity unknown meets no bound", {"capacity_kva_le": 100}, HV_10KV, False),
    (
        "kW range",
        {"capacity_kw_gt": 50, "capacity_kw_le": 200},
        {**HV_10KV, "capacity_kw": 51},
        True,
    ),
    ("kW never from kVA", {"capacity_kw_gt": 50}, {**HV_10KV, "capacity_kva": 630}, False),
    ("outside line", {"outside_line_m_gt": 200}, {**HV_10KV, "outside_line_m": 300}, True),
    ("outside line up to", {"outside_line_m_le": 200}, {**HV_10KV, "outside_line_m": 300}, False),
    ("DG variant", {"dg_variants": ["pv_single_point"]}, {**HV_10KV, "dg_variant": "other"}, False),
    ("meter change unknown is no", {"meter_change": False}, HV_10KV, True),
    ("meter change", {"meter_change": True}, {**HV_10KV, "meter_change": True}, True),
    ("flags all present", {"flags": ["a", "b"]}, {**HV_10KV, "flags": ("a", "b", "c")}, True),
    ("a flag missing", {"flags": ["a", "b"]}, {**HV_10KV, "flags": ("a",)}, False),
    ("not flags", {"not_flags": ["a"]}, {**HV_10KV, "flags": ("a",)}, False),
    (
        "any of",
        {"any_of": [{"voltages": ["35kV"]}, {"dual_power": False}]},
        HV_10KV,
        True,
    ),
    (
        "none of any of",
        {"any_of": [{"voltages": ["35kV"]}, {"dual_power": True}]},
        HV_10KV,
        False,
    ),
    (
        "all fields and any of",
        {"voltages": ["10kV"], "any_of": [{"voltages": ["35kV"]}]},
        HV_10KV,
        False,
    ),
]


@pytest.mark.parametrize(
    ("condition", "attributes", "expected"),
    [case[1:] for case in MATCHES],
    ids=[case[0] for case in MATCHES],
)
def test_a_condition_holds_when_every_field_does(
    condition: dict[str, Any], attributes: dict[str, Any], expected: bool
) -> None:
    facts = Facts(HENAN, profile(**attributes), CST)
    assert facts.matches(Condition.model_validate(condition)) is expected


# ---------------------------------------------------------------------------- rules selected

SELECTIONS: list[tuple[str, str, dict[str, Any], set[str], set[str], set[str]]] = [
    # (case, unit, profile fields, selected, not selected, skipped stages among them)
    (
        "HV without grid works",
        "henan/sanmenxia",
        {"voltage": "10kV"},
        {"hv.plan_reply", "hv.full_process", "hv.energize"},
        {"hv.grid_works", "hv.design_review", "hv.mid_inspection"},
        {"grid_works", "design_review", "mid_inspection", "fee_payment"},
    ),
    (
        "HV with grid works, dual power, important",
        "henan/sanmenxia",
        {
            "voltage": "10kV",
            "grid_works": GridWorks(type="overhead_line"),
            "dual_power": True,
            "important": True,
        },
        {"hv.grid_works", "hv.design_review", "hv.mid_inspection"},
        set(),
        {"admin_approval", "appointment_confirm"},
    ),
    (
        "small/micro non-residential is timed as small/micro",
        "henan/sanmenxia",
        {"business_type": "lv_non_residential", "voltage": "380V", "small_micro": True},
        {"lv_small_micro.full_process"},
        {"lv.full_process.no_grid", "hv.plan_reply"},
        {"plan_reply", "outage_plan"},
    ),
    (
        "the online channel has an appointment",
        "henan/sanmenxia",
        {"business_type": "lv_residential", "voltage": "220V", "channel": "online"},
        {"appointment.online_contact", "lv.appointment_confirm", "lv.full_process.no_grid"},
        set(),
        {"plan_reply"},
    ),
    (
        "the counter has none",
        "henan/sanmenxia",
        {"business_type": "lv_residential", "voltage": "220V"},
        {"lv.full_process.no_grid"},
        {"appointment.online_contact", "lv.appointment_confirm"},
        {"appointment_confirm"},
    ),
    (
        "county rules the day before they come into force",
        "henan/xinyang/huangchuan",
        {"voltage": "10kV", "accepted_at": datetime(2021, 11, 25, 23, 59, tzinfo=CST)},
        {"hv.plan_reply"},
        {"hv.plan_reply.county", "hv.protection_setting"},
        set(),
    ),
    (
        "county rules from the day they come into force",
        "henan/xinyang/huangchuan",
        {"voltage": "10kV", "accepted_at": datetime(2021, 11, 26, tzinfo=CST)},
        {"hv.plan_reply", "hv.plan_reply.county", "hv.protection_setting"},
        set(),
        set(),
    ),
    (
        "the acceptance date is read in the policy's zone",
        "henan/xinyang/huangchuan",
        {"voltage": "10kV", "accepted_at": datetime(2021, 11, 25, 16, tzinfo=UTC)},
        {"hv.plan_reply.county"},
        set(),
        set(),
    ),
    (
        "a transfer without fee settlement is not timed",
        "henan",
        {"business_type": "transfer_residential", "voltage": "220V"},
        set(),
        {"transfer_residential.full_process"},
        set(),
    ),
    (
        "a transfer with fee settlement is",
        "henan",
        {"business_type": "transfer_residential", "voltage": "220V", "flags": ("fee_settlement",)},
        {"transfer_residential.full_process"},
        set(),
        set(),
    ),
    (
        "residential charging is timed as residential",
        "henan",
        {"business_type": "charging_residential", "voltage": "220V"},
        {"lv.full_process.no_grid"},
        set(),
        set(),
    ),
]


@pytest.mark.parametrize(
    ("unit", "attributes", "selected", "not_selected", "skipped"),
    [case[1:] for case in SELECTIONS],
    ids=[case[0] for case in SELECTIONS],
)
def test_the_rules_an_application_gets(
    unit: str,
    attributes: dict[str, Any],
    selected: set[str],
    not_selected: set[str],
    skipped: set[str],
) -> None:
    policy = load_policy(unit)
    app = profile(unit, **attributes)
    kept = select_rules(policy, app)
    ids = {m.id for m in kept.monitors}
    assert selected <= ids, sorted(ids)
    assert not (not_selected & ids), sorted(ids)
    ev = assert_selection_is_what_evaluation_uses(policy, kept, app)
    assert skipped <= set(ev.skipped_stages)


def every_stage_started(app: ApplicationProfile) -> list[Event]:
    return [
        Event(event=f"{code}.started", at=app.accepted_at + timedelta(hours=i + 1))
        for i, code in enumerate(STAGE_ORDER)
    ]


def assert_selection_is_what_evaluation_uses(
    policy: ResolvedPolicy, kept: ResolvedPolicy, app: ApplicationProfile
) -> Evaluation:
    """The kept policy answers as the whole one does, and keeps nothing the evaluation leaves
    out: each kept monitor rule is a monitor, each kept too-short rule judges one."""
    events = every_stage_started(app)
    as_of = events[-1].at + timedelta(days=3)
    whole = evaluate(policy, CAL, app, events, as_of)
    assert evaluate(kept, CAL, app, events, as_of) == whole
    monitors = {m.id for m in whole.monitors}
    shorts = {m.too_short.id for m in whole.monitors if m.too_short is not None}
    assert {m.id for m in kept.monitors} <= monitors
    assert {t.id for t in kept.too_short} == shorts
    assert monitors <= {m.id for m in kept.monitors} | shorts
    return whole


@pytest.mark.parametrize("unit", list_units())
def test_every_business_type_of_every_pack_keeps_what_it_uses(unit: str) -> None:
    policy = load_policy(unit)
    variants: list[dict[str, Any]] = [
        {},
        {"grid_works": GridWorks(type="overhead_line"), "dual_power": True, "important": True},
        {"channel": "online", "small_micro": True, "dg_variant": "pv_multi_point"},
    ]
    for business_type in sorted(BUSINESS_TYPES):
        voltage = "10kV" if business_type in ("hv", "dg_hv") else "380V"
        for extra in variants:
            app = profile(unit, business_type=business_type, voltage=voltage, **extra)
            assert_selection_is_what_evaluation_uses(policy, select_rules(policy, app), app)


def test_what_a_workflow_carries_leaves_out_the_tables() -> None:
    kept = select_rules(HENAN, profile(voltage="10kV"))
    assert HENAN.params and HENAN.inconsistencies
    # Only the notices the workflow issues itself, and only its business type's rows.
    assert list(kept.params) == ["coordination_notices"] and kept.inconsistencies == []
    rows = kept.params["coordination_notices"]["rows"]
    assert rows and all("hv" in r["business_types"] for r in rows)
    lv = select_rules(HENAN, profile(business_type="lv_residential", voltage="220V"))
    assert lv.params == {}
    assert kept.stages == HENAN.stages and kept.version == HENAN.version
    assert len(kept.monitors) < len(HENAN.monitors)


# ---------------------------------------------------------------------------- the index


def test_an_index_changes_speed_never_answers() -> None:
    index = RuleIndex(HENAN)
    app = profile(voltage="10kV", grid_works=GridWorks(type="overhead_line"))
    events = every_stage_started(app)
    for as_of in (app.accepted_at, events[5].at, events[-1].at + timedelta(days=20)):
        assert evaluate(HENAN, CAL, app, events, as_of, index=index) == evaluate(
            HENAN, CAL, app, events, as_of
        )
    assert select_rules(HENAN, app, index) == select_rules(HENAN, app)


def test_an_index_answers_only_for_its_own_policy() -> None:
    other = HENAN.model_copy()
    with pytest.raises(ValueError, match="index"):
        evaluate(other, CAL, profile(voltage="10kV"), (), T0, index=RuleIndex(HENAN))
