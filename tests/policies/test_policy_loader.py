"""The loader: inheritance, validation and precise refusal of bad packs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from calendars import get_calendar
from policies.codes import BUSINESS_TYPES
from policies.engine import evaluate
from policies.loader import PolicyError, check_all, list_units, load_policy, policy_from_json
from policies.preview import PreviewRequest, preview
from policies.profile import ApplicationProfile
from policies.schema import ResolvedPolicy

CST = timezone(timedelta(hours=8))
SRC = 'source = { file = "test.txt", section = "§1" }'

ROOT = """
[pack]
unit = "national"
title = "root"

[settings]
timezone = "Asia/Shanghai"
calendar_region = "CN"
clock = "working_day"
day_hours = 24
source = { file = "DESIGN.md", section = "§3" }

[[monitors]]
id = "hv.plan_reply"
code = "plan_reply"
when = { business_types = ["hv"] }
start = { event = "accept.started" }
stop = { event = "plan_reply.completed" }
national = { amount = 11, unit = "workday" }
orange_lead = { amount = 1, unit = "workday" }
result = "assess"
source = { file = "root.txt", section = "red column" }
"""

CHILD = """
[pack]
unit = "prov"
title = "child"

[[monitors]]
id = "hv.plan_reply"
provincial = { amount = 10, unit = "workday" }
blue_lead = { amount = 2, unit = "workday" }
source = { file = "prov.txt", section = "table 1" }
"""

GRANDCHILD = """
[pack]
unit = "prov/city"
title = "grandchild"

[[monitors]]
id = "hv.plan_reply"
provincial = { amount = 5, unit = "workday" }
source = { file = "city.txt", section = "§2" }
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for unit, text in files.items():
        path = root / f"{unit}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def refused(root: Path, unit: str) -> str:
    with pytest.raises(PolicyError) as info:
        load_policy(unit, root=root)
    return str(info.value)


@pytest.fixture
def packs(tmp_path: Path) -> Path:
    return write(tmp_path, {"national": ROOT, "prov": CHILD, "prov/city": GRANDCHILD})


def test_every_shipped_pack_is_valid() -> None:
    units = list_units()
    assert {"national", "henan", "henan/sanmenxia"} <= set(units)
    policies = check_all()
    assert set(policies) == set(units)
    assert policies["henan/sanmenxia"].chain == ["national", "henan", "henan/sanmenxia"]


def test_child_overrides_field_by_field_and_records_what_it_replaced(packs: Path) -> None:
    prov = load_policy("prov", root=packs)
    rule = prov.monitor("hv.plan_reply")
    assert rule.national is not None and rule.national.amount == 11
    assert rule.provincial is not None and rule.provincial.amount == 10
    assert [s.file for s in rule.sources or []] == ["root.txt", "prov.txt"]
    city = load_policy("prov/city", root=packs)
    rule = city.monitor("hv.plan_reply")
    assert rule.provincial is not None and rule.provincial.amount == 5
    assert rule.superseded is not None
    (old,) = rule.superseded
    assert (old.field, old.value, old.unit) == ("provincial", 10, "workday")
    assert old.source is not None and old.source.file == "prov.txt"
    assert old.replaced_by is not None and old.replaced_by.file == "city.txt"
    assert city.chain == ["national", "prov", "prov/city"]
    assert city.version != prov.version


def test_version_is_a_hash_of_the_chain_files(packs: Path, tmp_path: Path) -> None:
    before = load_policy("prov/city", root=packs).version
    other = write(tmp_path / "copy", {"national": ROOT, "prov": CHILD, "prov/city": GRANDCHILD})
    assert load_policy("prov/city", root=other).version == before
    write(other, {"national": ROOT.replace("11", "12")})
    assert load_policy("prov/city", root=other).version != before


def test_clear_enabled_and_drop_inherited(tmp_path: Path) -> None:
    child = CHILD + '\n[[monitors]]\nid = "hv.plan_reply"\nclear = ["national"]\n' + SRC
    with pytest.raises(PolicyError, match="appears twice"):
        load_policy("prov", root=write(tmp_path, {"national": ROOT, "prov": child}))
    cleared = CHILD.replace(
        'blue_lead = { amount = 2, unit = "workday" }',
        'blue_lead = { amount = 2, unit = "workday" }\nclear = ["national"]',
    )
    p = load_policy("prov", root=write(tmp_path, {"national": ROOT, "prov": cleared}))
    assert p.monitor("hv.plan_reply").national is None
    disabled = CHILD.replace('provincial = { amount = 10, unit = "workday" }', "enabled = false")
    p = load_policy("prov", root=write(tmp_path / "b", {"national": ROOT, "prov": disabled}))
    assert [m.id for m in p.monitors] == []
    dropped = CHILD.replace('title = "child"', 'title = "child"\ndrop_inherited = ["hv.*"]')
    dropped = dropped[: dropped.index("[[monitors]]")]
    p = load_policy("prov", root=write(tmp_path / "c", {"national": ROOT, "prov": dropped}))
    assert p.monitors == []


def test_unknown_code_is_refused(tmp_path: Path) -> None:
    bad = ROOT.replace('code = "plan_reply"', 'code = "plan_replies"')
    msg = refused(write(tmp_path, {"national": bad}), "national")
    assert "national.toml: monitors (id 'hv.plan_reply').code" in msg
    assert "unknown code 'plan_replies'" in msg


def test_unknown_event_is_refused(tmp_path: Path) -> None:
    bad = ROOT.replace(
        'stop = { event = "plan_reply.completed" }', 'stop = { event = "plan_reply.finished" }'
    )
    msg = refused(write(tmp_path, {"national": bad}), "national")
    assert "monitors (id 'hv.plan_reply').stop" in msg
    assert "unknown event 'plan_reply.finished'" in msg


def test_unit_cycle_is_refused(tmp_path: Path) -> None:
    a = CHILD.replace('unit = "prov"', 'unit = "prov"\nparent = "other"')
    b = GRANDCHILD.replace('unit = "prov/city"', 'unit = "other"\nparent = "prov"')
    msg = refused(write(tmp_path, {"national": ROOT, "prov": a, "other": b}), "prov")
    assert "unit cycle prov -> other -> prov" in msg
    assert "pack.parent" in msg


def test_blue_lead_longer_than_its_limit_is_refused(tmp_path: Path) -> None:
    bad = CHILD.replace(
        'blue_lead = { amount = 2, unit = "workday" }',
        'blue_lead = { amount = 12, unit = "workday" }',
    )
    msg = refused(write(tmp_path, {"national": ROOT, "prov": bad}), "prov")
    assert "prov.toml: monitors (id 'hv.plan_reply').blue_lead" in msg
    assert "blue lead 12 workday is not shorter than the provincial limit 10 workday" in msg


def test_blue_lead_on_another_clock_is_refused(tmp_path: Path) -> None:
    bad = CHILD.replace(
        'blue_lead = { amount = 2, unit = "workday" }', 'blue_lead = { amount = 2, unit = "hour" }'
    )
    msg = refused(write(tmp_path, {"national": ROOT, "prov": bad}), "prov")
    assert "different clocks" in msg


def test_orange_lead_checked_in_variants(tmp_path: Path) -> None:
    bad = (
        ROOT
        + """
[[monitors.variants]]
id = "dual"
when = { dual_power = true }
national = { amount = 1, unit = "workday" }
source = { file = "root.txt", section = "dual" }
"""
    )
    msg = refused(write(tmp_path, {"national": bad}), "national")
    assert "monitors (id 'hv.plan_reply').variants (id 'dual').orange_lead" in msg
    assert "national limit 1 workday" in msg


def test_missing_source_is_refused(tmp_path: Path) -> None:
    bad = CHILD.replace('source = { file = "prov.txt", section = "table 1" }', "")
    msg = refused(write(tmp_path, {"national": ROOT, "prov": bad}), "prov")
    assert "prov.toml: monitors[0] (id 'hv.plan_reply').source: missing source" in msg


def test_params_need_a_source(tmp_path: Path) -> None:
    bad = CHILD + '\n[params.sms]\nsend_times = ["08:30"]\n'
    msg = refused(write(tmp_path, {"national": ROOT, "prov": bad}), "prov")
    assert "params.sms.source: every parameter table needs a source" in msg


def test_schema_errors_name_file_path_and_reason(tmp_path: Path) -> None:
    bad = CHILD.replace(
        'provincial = { amount = 10, unit = "workday" }',
        'provincial = { amount = 10, unit = "fortnight" }',
    )
    msg = refused(write(tmp_path, {"national": ROOT, "prov": bad}), "prov")
    assert "prov.toml: monitors[0].provincial.unit" in msg
    assert "(id 'hv.plan_reply')" in msg
    bad = CHILD.replace('provincial = { amount = 10, unit = "workday" }', "deadline = 3")
    msg = refused(write(tmp_path / "x", {"national": ROOT, "prov": bad}), "prov")
    assert "monitors[0].deadline (id 'hv.plan_reply'): Extra inputs are not permitted" in msg


def test_unknown_business_type_voltage_and_role(tmp_path: Path) -> None:
    bad = ROOT.replace('business_types = ["hv"]', 'business_types = ["hv_new"]')
    assert "unknown business type ['hv_new']" in refused(
        write(tmp_path, {"national": bad}), "national"
    )
    bad = ROOT.replace('when = { business_types = ["hv"] }', 'when = { voltages = ["11kV"] }')
    assert "unknown voltage ['11kV']" in refused(
        write(tmp_path / "v", {"national": bad}), "national"
    )


def test_unit_must_match_its_file(tmp_path: Path) -> None:
    bad = CHILD.replace('unit = "prov"', 'unit = "province"')
    msg = refused(write(tmp_path, {"national": ROOT, "prov": bad}), "prov")
    assert "pack.unit: says 'province' but the file is the pack of 'prov'" in msg


def test_bad_toml_and_missing_pack(tmp_path: Path) -> None:
    msg = refused(write(tmp_path, {"national": "[pack\nunit="}), "national")
    assert "national.toml: not valid TOML" in msg
    assert "no such pack file" in refused(write(tmp_path / "y", {"national": ROOT}), "nowhere")


def test_inconsistency_references_are_checked(tmp_path: Path) -> None:
    bad = ROOT.replace('result = "assess"', 'result = "assess"\nflags = ["nope"]')
    msg = refused(write(tmp_path, {"national": bad}), "national")
    assert "flags: no inconsistency with id 'nope'" in msg


def test_resolved_policy_round_trips_through_json() -> None:
    policy = load_policy("henan/sanmenxia")
    text = policy.model_dump_json()
    again = policy_from_json(text)
    assert again == policy
    assert ResolvedPolicy.model_validate(json.loads(text)) == policy
    # The workflow's start input drops nulls: still the same policy.
    assert policy_from_json(policy.model_dump(mode="json", exclude_none=True)) == policy
    cal = get_calendar("CN")
    app = ApplicationProfile(
        unit=policy.unit,
        business_type="hv",
        voltage="10kV",
        dual_power=True,
        important=True,
        grid_works={"type": "overhead_line", "voltage": "10kV"},  # type: ignore[arg-type]
        accepted_at=datetime(2026, 11, 16, 9, tzinfo=CST),
    )
    as_of = datetime(2026, 12, 1, 9, tzinfo=CST)
    assert evaluate(again, cal, app, (), as_of) == evaluate(policy, cal, app, (), as_of)


def _voltage_for(business_type: str) -> str:
    if business_type in {
        "hv",
        "dg_hv",
        "capacity_reduction",
        "capacity_reduction_restore",
        "suspension",
        "suspension_restore",
        "tariff_basis_change",
        "demand_adjustment",
    }:
        return "10kV"
    return "380V"


@pytest.mark.parametrize("unit", list_units())
def test_preview_answers_for_every_business_type(unit: str) -> None:
    cal = get_calendar("CN")
    henan_chain = unit == "henan" or unit.startswith("henan/")
    for business_type in sorted(BUSINESS_TYPES):
        req = PreviewRequest.model_validate(
            {
                "unit": unit,
                "business_type": business_type,
                "voltage": _voltage_for(business_type),
                "capacity_kva": 100,
                "accepted_at": "2026-11-16T09:00:00+08:00",
                "dg_variant": "pv_single_point",
                "flags": ["fee_settlement"],
            }
        )
        resp = preview(req, calendar=cal)
        assert resp.policy.unit == unit
        if henan_chain:
            assert resp.monitors, f"{unit} {business_type}: no monitor"
            assert all(m.source for m in resp.monitors)


def test_preview_refuses_bad_input_with_the_field() -> None:
    base = {
        "unit": "henan",
        "business_type": "hv",
        "voltage": "10kV",
        "accepted_at": "2026-11-16T09:00:00+08:00",
    }
    cases: list[tuple[dict[str, Any], str]] = [
        ({"unit": "atlantis"}, "unknown unit 'atlantis'"),
        ({"business_type": "hv_new"}, "unknown business type 'hv_new'"),
        ({"voltage": "11kV"}, "unknown voltage '11kV'"),
        ({"accepted_at": "2026-11-16T09:00:00"}, "must carry a time zone offset"),
        ({"grid_works": {"type": "pipeline"}}, "unknown supporting-works type 'pipeline'"),
        (
            {"events": [{"event": "plan_reply.done", "at": "2026-11-17T09:00:00+08:00"}]},
            "events[0].event: unknown event 'plan_reply.done'",
        ),
        (
            {"events": [{"event": "plan_reply.completed", "at": "2026-11-15T09:00:00+08:00"}]},
            "events[0].at",
        ),
    ]
    for patch, text in cases:
        with pytest.raises(ValueError) as info:
            PreviewRequest.model_validate({**base, **patch})
        assert text in str(info.value), (patch, str(info.value))


def test_undeclared_application_flag_is_refused(tmp_path: Path) -> None:
    bad = ROOT.replace(
        'when = { business_types = ["hv"] }',
        'when = { business_types = ["hv"], flags = ["asset_transfr"] }',
    )
    msg = refused(write(tmp_path, {"national": bad}), "national")
    assert "monitors (id 'hv.plan_reply').when.flags: undeclared application flag" in msg
    ok = bad.replace(
        'title = "root"', 'title = "root"\napplication_flags = { asset_transfr = "typo, declared" }'
    )
    assert load_policy("national", root=write(tmp_path / "ok", {"national": ok})).monitors


def test_preview_refuses_unknown_application_flag() -> None:
    with pytest.raises(ValueError, match="unknown application flag 'vip'"):
        PreviewRequest.model_validate(
            {
                "unit": "henan",
                "business_type": "hv",
                "voltage": "10kV",
                "flags": ["vip"],
                "accepted_at": "2026-11-16T09:00:00+08:00",
            }
        )


def test_every_inconsistency_is_listed_in_the_docs() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs"
    text = "\n".join(p.read_text(encoding="utf-8") for p in docs.glob("polic*.md"))
    for unit, policy in check_all().items():
        for inc in policy.inconsistencies:
            assert f"`{inc.id}`" in text, f"{unit}: inconsistency {inc.id} is not in docs/"


def test_patch_of_a_missing_parent_rule_and_bad_drop_pattern(tmp_path: Path) -> None:
    typo = CHILD.replace('id = "hv.plan_reply"', 'id = "hv.plan_replly"')
    msg = refused(write(tmp_path, {"national": ROOT, "prov": typo}), "prov")
    assert "monitors (id 'hv.plan_replly').code: missing" in msg
    assert "no parent pack has a rule with this id" in msg
    bad = CHILD.replace('title = "child"', 'title = "child"\ndrop_inherited = ["lv.*"]')
    msg = refused(write(tmp_path / "d", {"national": ROOT, "prov": bad}), "prov")
    assert "prov.toml: pack.drop_inherited[0]: 'lv.*' matches no inherited rule id" in msg
