"""Engine properties: ordering of levels, pauses, effective dates, determinism."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calendars import get_calendar
from policies.engine import Event, effective_rules, evaluate
from policies.loader import PolicyError, load_policy
from policies.preview import policy_calendar
from policies.profile import ApplicationProfile, GridWorks

CST = timezone(timedelta(hours=8))
CAL = get_calendar("CN")
HENAN = load_policy("henan/sanmenxia")
ORDER = {"blue": 0, "yellow": 1, "orange": 2, "red": 3}

instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 20)).map(
    lambda d: d.replace(tzinfo=CST, second=0, microsecond=0)
)


def hv_app(accepted: datetime, grid: bool = True) -> ApplicationProfile:
    return ApplicationProfile(
        unit="henan/sanmenxia",
        business_type="hv",
        voltage="10kV",
        grid_works=GridWorks(type="overhead_line", voltage="10kV") if grid else None,
        accepted_at=accepted,
    )


@settings(max_examples=60, deadline=None)
@given(accepted=instants)
def test_levels_are_ordered_and_counted_time_matches(accepted: datetime) -> None:
    ev = evaluate(HENAN, CAL, hv_app(accepted), (), accepted)
    plan = next(m for m in ev.monitors if m.id == "hv.plan_reply")
    dues = {t.level: t.due_at for t in plan.thresholds}
    assert dues["blue"] is not None and dues["yellow"] is not None
    assert dues["orange"] is not None and dues["red"] is not None
    assert dues["blue"] < dues["yellow"] <= dues["orange"] < dues["red"]
    # The counted business time at each instant is exactly the level's amount.
    assert CAL.work_time_between(accepted, dues["yellow"]) == timedelta(days=10)
    assert CAL.work_time_between(accepted, dues["red"]) == timedelta(days=11)
    assert CAL.work_time_between(dues["blue"], dues["yellow"]) == timedelta(days=2)


@settings(max_examples=60, deadline=None)
@given(
    accepted=instants,
    pause_after=st.integers(min_value=0, max_value=200),
    pause_hours=st.integers(min_value=1, max_value=400),
)
def test_pauses_never_bring_a_deadline_forward(
    accepted: datetime, pause_after: int, pause_hours: int
) -> None:
    start = accepted + timedelta(hours=pause_after)
    end = start + timedelta(hours=pause_hours)
    events = [Event(event="pause", at=start, reason="customer"), Event(event="resume", at=end)]
    as_of = end + timedelta(hours=1)
    plain = evaluate(HENAN, CAL, hv_app(accepted), (), as_of)
    held = evaluate(HENAN, CAL, hv_app(accepted), events, as_of)
    for a, b in zip(plain.monitors, held.monitors, strict=True):
        assert a.id == b.id
        for ta, tb in zip(a.thresholds, b.thresholds, strict=True):
            if ta.due_at is None or tb.due_at is None:
                continue
            assert tb.due_at >= ta.due_at
            if ta.due_at <= start:
                assert tb.due_at == ta.due_at
            else:
                paused = CAL.work_time_between(start, end)
                assert CAL.work_time_between(accepted, tb.due_at) - paused == (
                    CAL.work_time_between(accepted, ta.due_at)
                )


@settings(max_examples=40, deadline=None)
@given(accepted=instants, offsets=st.lists(st.integers(0, 500), min_size=0, max_size=8))
def test_evaluation_is_deterministic_and_order_independent(
    accepted: datetime, offsets: list[int]
) -> None:
    names = [
        "joint_survey.started",
        "plan_reply.completed",
        "grid_works.started",
        "grid_works.completed",
        "completion_inspection.completed",
        "contract.completed",
        "dispatch_agreement.completed",
        "energize.completed",
    ]
    events = [
        Event(event=n, at=accepted + timedelta(hours=h))
        for n, h in zip(names, sorted(offsets), strict=False)
    ]
    as_of = accepted + timedelta(hours=600)
    a = evaluate(HENAN, CAL, hv_app(accepted), events, as_of)
    b = evaluate(HENAN, CAL, hv_app(accepted), list(reversed(events)), as_of)
    assert a == b
    for m in a.monitors:
        if m.level is not None:
            reached = [t.level for t in m.thresholds if t.reached]
            assert m.level == max(reached, key=ORDER.__getitem__)
        if m.state == "pending":
            assert all(t.due_at is None for t in m.thresholds)


def test_events_after_as_of_are_ignored() -> None:
    accepted = datetime(2026, 11, 16, 9, tzinfo=CST)
    done = Event(event="plan_reply.completed", at=accepted + timedelta(days=1))
    before = evaluate(HENAN, CAL, hv_app(accepted), [done], accepted + timedelta(hours=1))
    plan = next(m for m in before.monitors if m.id == "hv.plan_reply")
    assert plan.state == "running" and plan.stopped_at is None


EFFECTIVE_ROOT = """
[pack]
unit = "national"
title = "dated"

[settings]
timezone = "Asia/Shanghai"
calendar_region = "CN"
clock = "working_day"
day_hours = 24
source = { file = "DESIGN.md", section = "§3" }

[[monitors]]
id = "lv_small_micro.full_process.2020"
code = "full_process"
when = { business_types = ["lv_small_micro"] }
start = { event = "accept.started" }
stop = { event = "energize.completed" }
provincial = { amount = 25, unit = "workday" }
effective_until = 2021-01-01
source = { file = "x.txt", section = "2020" }

[[monitors]]
id = "lv_small_micro.full_process.2021"
code = "full_process"
when = { business_types = ["lv_small_micro"] }
start = { event = "accept.started" }
stop = { event = "energize.completed" }
provincial = { amount = 20, unit = "workday" }
effective_from = 2021-01-01
effective_until = 2022-01-01
source = { file = "x.txt", section = "2021" }

[[monitors]]
id = "lv_small_micro.full_process.2022"
code = "full_process"
when = { business_types = ["lv_small_micro"] }
start = { event = "accept.started" }
stop = { event = "energize.completed" }
provincial = { amount = 15, unit = "workday" }
effective_from = 2022-01-01
source = { file = "x.txt", section = "2022" }
"""


def test_rule_in_force_at_acceptance_applies(tmp_path: Path) -> None:
    (tmp_path / "national.toml").write_text(EFFECTIVE_ROOT, encoding="utf-8")
    policy = load_policy("national", root=tmp_path)
    seen = {}
    # The acceptance date is taken in the policy's zone: 16:00 UTC on 31 Dec is 1 Jan in Shanghai.
    for accepted, expected in [
        (datetime(2020, 12, 31, 23, 30, tzinfo=CST), 25),
        (datetime(2021, 1, 1, 0, 0, tzinfo=CST), 20),
        (datetime(2021, 12, 31, 16, 0, tzinfo=UTC), 15),
        (datetime(2026, 3, 2, 9, 0, tzinfo=CST), 15),
    ]:
        app = ApplicationProfile(
            unit="henan/sanmenxia",
            business_type="lv_small_micro",
            voltage="380V",
            accepted_at=accepted,
        )
        ev = evaluate(policy, CAL, app, (), accepted)
        (m,) = ev.monitors
        assert m.provincial_limit is not None
        seen[accepted] = m.provincial_limit.amount
        assert m.provincial_limit.amount == expected, accepted
        rules = effective_rules(policy, app)
        assert [r.provincial.amount for r in rules.monitors if r.provincial] == [expected]
    assert sorted(set(seen.values())) == [15, 20, 25]


OFFICE_CHILD = """
[pack]
unit = "office"
title = "office hours"

[settings]
clock = "office_hours"
day_hours = 7.5
office_periods = ["08:30-12:00", "13:30-17:30"]
source = { file = "DESIGN.md", section = "§3 office-hours clock (option)" }

[[monitors]]
id = "hv.plan_reply"
code = "plan_reply"
when = { business_types = ["hv"] }
start = { event = "accept.started" }
stop = { event = "plan_reply.completed" }
provincial = { amount = 1, unit = "workday" }
national = { amount = 2, unit = "workhour" }
levels = ["yellow", "red"]
source = { file = "x.txt", section = "§1" }
"""


def test_office_hours_clock_counts_only_office_periods(tmp_path: Path) -> None:
    root_text = EFFECTIVE_ROOT.split("[[monitors]]")[0]
    (tmp_path / "national.toml").write_text(root_text, encoding="utf-8")
    (tmp_path / "office.toml").write_text(OFFICE_CHILD, encoding="utf-8")
    policy = load_policy("office", root=tmp_path)
    assert policy.settings.clock == "office_hours"
    cal = policy_calendar(policy)
    accepted = datetime(2026, 11, 16, 11, 0, tzinfo=CST)
    ev = evaluate(policy, cal, hv_app(accepted, grid=False), (), accepted)
    (m,) = ev.monitors
    dues = {t.level: t.due_at for t in m.thresholds}
    # 2 office hours from Monday 11:00: 11:00-12:00, then 13:30-14:30.
    assert dues["red"] == datetime(2026, 11, 16, 14, 30, tzinfo=CST)
    # One working day is the 7.5 office hours: Tuesday 11:00.
    assert dues["yellow"] == datetime(2026, 11, 17, 11, 0, tzinfo=CST)


def test_office_hours_settings_are_checked(tmp_path: Path) -> None:
    root_text = EFFECTIVE_ROOT.split("[[monitors]]")[0]
    (tmp_path / "national.toml").write_text(root_text, encoding="utf-8")
    (tmp_path / "office.toml").write_text(
        OFFICE_CHILD.replace("day_hours = 7.5", "day_hours = 8"), encoding="utf-8"
    )
    with pytest.raises(PolicyError) as info:
        load_policy("office", root=tmp_path)
    assert "office.toml: settings.day_hours: 8.0 h but the office periods add up to 7.5 h" in str(
        info.value
    )


def test_business_type_defaults_of_the_national_pack() -> None:
    accepted = datetime(2026, 11, 16, 9, tzinfo=CST)
    cases = [
        ("temporary", "380V", "lv.full_process.no_grid"),
        ("temporary", "10kV", "hv.plan_reply"),
        ("charging_residential", "220V", "lv.full_process.no_grid"),
        ("charging_non_residential", "10kV", "hv.plan_reply"),
        ("base_station_5g", "380V", "lv.full_process.no_grid"),
        ("irrigation_well", "380V", "lv.full_process.no_grid"),
    ]
    for business_type, voltage, rule_id in cases:
        app = ApplicationProfile(
            unit="henan/sanmenxia",
            business_type=business_type,
            voltage=voltage,
            accepted_at=accepted,
        )
        ids = {m.id for m in evaluate(HENAN, CAL, app, (), accepted).monitors}
        assert rule_id in ids, (business_type, voltage, sorted(ids))
    lv_temp = ApplicationProfile(
        unit="henan/sanmenxia", business_type="temporary", voltage="380V", accepted_at=accepted
    )
    ids = {m.id for m in evaluate(HENAN, CAL, lv_temp, (), accepted).monitors}
    assert "hv.plan_reply" not in ids
