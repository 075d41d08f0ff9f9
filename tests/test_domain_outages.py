"""Outage scheduling's decisions, without Temporal: the tiers, each plan's cutoff across the
National Day week, the notice period, the crews, sharing an outage, and live-line work.

On the published CN 2026 calendar: Fri 09-25 is the Mid-Autumn holiday, 10-01..10-07 National
Day, Sun 09-20 and Sat 10-10 are make-up working days; Sun 12-20 closes no plan.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from calendars import Calendar, get_calendar
from contracts.outages import LIVE_LINE_FLAG, OutageRecord, OutageRules, OutageTier
from contracts.plans import PlanRecord
from domain.outages import (
    NoSlot,
    Planned,
    cutoff,
    day_refused,
    decided_plan,
    earliest_slot,
    energization_possible_at,
    live_line_flag,
    outage_rules,
    outage_tier,
    plan_feeder,
    shared_outage,
)
from policies.engine import Evaluation
from policies.engine.models import MonitorOut
from policies.loader import load_policy
from tests.scenarios import SMX_HV, TZ
from tests.test_domain_plans import centre_point, hv_plan

CAL: Calendar = get_calendar("CN")
RULES = outage_rules(load_policy("henan/sanmenxia"))
#: The cutoffs alone: no notice period in the way.
NO_NOTICE = RULES.model_copy(update={"notice_days": 0})


def at(y: int, m: int, d: int, hour: int = 10) -> datetime:
    return datetime(y, m, d, hour, tzinfo=TZ)


def slot_day(tier: OutageTier, now: datetime, rules: OutageRules = NO_NOTICE, **kw: object) -> date:
    return earliest_slot(tier, now, now, CAL, rules, **kw).day  # type: ignore[arg-type]


def test_the_packs_rules_cite_their_clauses() -> None:
    assert (RULES.notice_days, RULES.crews_per_day, RULES.sharing_workdays) == (7, 2, 10)
    assert (RULES.monthly_day_of_month, RULES.biweekly_weekday, RULES.daily_workdays_before) == (
        20,
        3,
        1,
    )
    assert "第二十八条" in RULES.sources["notice"]
    assert "一停多用" in RULES.sources["sharing"]
    assert RULES.sources["cutoffs"].startswith("docs/outages.md")
    assert set(RULES.sources) == {"cutoffs", "notice", "crews", "sharing", "hours", "tier_defaults"}


@pytest.mark.parametrize(
    ("tier", "day", "closes"),
    [
        # The working day before; across the holiday week, the last working day before it.
        ("daily", date(2026, 10, 8), date(2026, 9, 30)),
        ("daily", date(2026, 10, 9), date(2026, 10, 8)),
        ("daily", date(2026, 10, 12), date(2026, 10, 10)),  # Sat 10-10 is a make-up day
        # The Wednesday of the week before; a holiday Wednesday moves back to a working day.
        ("biweekly", date(2026, 10, 15), date(2026, 9, 30)),
        ("biweekly", date(2026, 10, 12), date(2026, 9, 30)),  # Wed 10-07 is National Day
        ("biweekly", date(2026, 9, 28), date(2026, 9, 23)),
        # The 20th of the month before; Sun 09-20 is a make-up working day, Sun 12-20 is not.
        ("monthly", date(2026, 10, 8), date(2026, 9, 20)),
        ("monthly", date(2027, 1, 4), date(2026, 12, 18)),
        ("live_line", date(2026, 10, 8), None),
    ],
)
def test_each_plans_cutoff(tier: OutageTier, day: date, closes: date | None) -> None:
    assert cutoff(tier, day, CAL, RULES) == closes


@pytest.mark.parametrize(
    ("tier", "now", "expected"),
    [
        # Daily: submitted on the last working day before the holiday, the first day after it.
        ("daily", at(2026, 9, 30), date(2026, 10, 8)),
        # During the holiday, 10-08's plan has closed (09-30): the day after.
        ("daily", at(2026, 10, 2), date(2026, 10, 9)),
        # Biweekly: on Wednesday 09-23 the week of 09-28 is still open.
        ("biweekly", at(2026, 9, 23), date(2026, 9, 28)),
        # On Thursday it has closed; the next week is the holiday: its first working day.
        ("biweekly", at(2026, 9, 24), date(2026, 10, 8)),
        # In the holiday week: the week of 10-12 closed on 09-30 (its Wednesday is a holiday).
        ("biweekly", at(2026, 10, 6), date(2026, 10, 19)),
        # Monthly: October's plan closes on Sun 09-20 (a make-up working day).
        ("monthly", at(2026, 9, 18), date(2026, 10, 8)),
        ("monthly", at(2026, 9, 21), date(2026, 11, 2)),
        # December's 20th is a Sunday: January's plan closed on Friday 12-18.
        ("monthly", at(2026, 12, 19), date(2027, 2, 1)),
        # Live-line work: no plan to close, no notice: the next working day.
        ("live_line", at(2026, 9, 30), date(2026, 10, 8)),
    ],
)
def test_each_tiers_earliest_slot_across_national_day(
    tier: OutageTier, now: datetime, expected: date
) -> None:
    assert slot_day(tier, now) == expected


def test_the_notice_period_is_seven_days_to_the_hour() -> None:
    # Outages start at 08:00: at 07:00 on Monday, the Monday a week on is 7 days and 1 hour
    # away; at 09:00 it is 23 hours short, and the Tuesday is the first.
    assert slot_day("daily", at(2026, 10, 12, 7), RULES) == date(2026, 10, 19)
    assert slot_day("daily", at(2026, 10, 12, 9), RULES) == date(2026, 10, 20)
    refusal = day_refused("daily", date(2026, 10, 19), at(2026, 10, 12, 9), CAL, RULES, {})
    assert refusal is not None and refusal.rule == "notice"
    # Live-line work tells nobody: no notice period.
    assert slot_day("live_line", at(2026, 10, 12, 9), RULES) == date(2026, 10, 13)
    # The notice is a parameter of the pack.
    longer = RULES.model_copy(update={"notice_days": 10})
    assert slot_day("daily", at(2026, 10, 12, 7), longer) == date(2026, 10, 22)


def test_the_slot_explains_itself() -> None:
    slot = earliest_slot("daily", at(2026, 10, 12, 9), at(2026, 10, 12, 9), CAL, RULES)
    text = "\n".join(slot.explanation)
    assert "closes on 2026-10-19" in text and "at least 7 days" in text
    assert "第二十八条" in text and "days passed over" in text
    assert slot.start_at == datetime(2026, 10, 20, 8, tzinfo=TZ)
    assert slot.end_at == datetime(2026, 10, 20, 18, tzinfo=TZ)


def test_crews_per_day_per_unit() -> None:
    now = at(2026, 10, 12, 7)
    assert slot_day("daily", now, RULES, booked={date(2026, 10, 19): 1}) == date(2026, 10, 19)
    full = {date(2026, 10, 19): 2, date(2026, 10, 20): 2}
    assert slot_day("daily", now, RULES, booked=full) == date(2026, 10, 21)
    # Live-line work takes no outage crew.
    assert slot_day("live_line", now, RULES, booked={date(2026, 10, 13): 9}) == date(2026, 10, 13)
    one = RULES.model_copy(update={"crews_per_day": 1})
    assert slot_day("daily", now, one, booked={date(2026, 10, 19): 1}) == date(2026, 10, 20)


def test_energization_possible_from_the_day_it_is() -> None:
    # Energization possible only on 10-20: never an outage before.
    now = at(2026, 10, 12, 7)
    assert earliest_slot("daily", now, at(2026, 10, 20, 15), CAL, RULES).day == date(2026, 10, 21)


def test_a_rejected_day_is_avoided_and_no_slot_is_an_error() -> None:
    now = at(2026, 10, 12, 7)
    avoid = frozenset({date(2026, 10, 19)})
    assert slot_day("daily", now, RULES, avoid=avoid) == date(2026, 10, 20)
    none_left = RULES.model_copy(update={"crews_per_day": 1})
    booked = {date.fromordinal(date(2026, 10, 13).toordinal() + i): 1 for i in range(500)}
    with pytest.raises(NoSlot, match="tier"):
        earliest_slot("daily", now, now, CAL, none_left, booked=booked)


def test_joining_an_outage_on_the_same_feeder_within_the_window() -> None:
    now = at(2026, 10, 12, 7)
    earliest = date(2026, 10, 19)
    later = Planned(id="O-2", day=date(2026, 10, 30), tier="daily")
    near = Planned(id="O-1", day=date(2026, 10, 27), tier="biweekly")
    assert shared_outage([later, near], earliest, earliest, now, CAL, RULES) == near
    # 10-19 -> 10-27 is 6 working days: outside a window of 5.
    narrow = RULES.model_copy(update={"sharing_workdays": 5})
    assert shared_outage([near], earliest, earliest, now, CAL, narrow) is None
    # An earlier outage is joined too (its customers are told already), but not one that is
    # today or past, before energization is possible, live-line work, or rejected.
    sooner = Planned(id="O-0", day=date(2026, 10, 14), tier="daily")
    possible = date(2026, 10, 12)
    assert shared_outage([near, sooner], earliest, possible, now, CAL, RULES) == sooner
    assert shared_outage([sooner], earliest, date(2026, 10, 15), now, CAL, RULES) is None
    past = Planned(id="O-P", day=date(2026, 10, 12), tier="daily")
    live = Planned(id="O-L", day=date(2026, 10, 20), tier="live_line")
    assert shared_outage([past, live], earliest, possible, now, CAL, RULES) is None
    assert shared_outage([near], earliest, earliest, now, CAL, RULES, frozenset({"O-1"})) is None


def test_the_tier_from_the_plan_and_the_packs_defaults() -> None:
    # A switching-station bay takes no other customer off supply: the daily plan (000 三(二)4).
    record, _ = hv_plan(SMX_HV)
    assert decided_plan(record)
    tier, why = outage_tier(record, "10kV", RULES)
    assert tier == "daily" and "三(二)4" in why and plan_feeder(record) == "SAN-FD00009"
    # Live-line work where the plan says so: no outage.
    assert record.plan is not None
    live = record.model_copy(update={"plan": record.plan.model_copy(update={"live_line": True})})
    assert outage_tier(live, "10kV", RULES)[0] == "live_line"
    # No tier in the plan (a pack without a tier table): the default by voltage.
    untiered = record.model_copy(
        update={"plan": record.plan.model_copy(update={"outage_tier": None})}
    )
    assert outage_tier(untiered, "10kV", RULES) == ("biweekly", RULES.sources["tier_defaults"])
    assert outage_tier(untiered, "110kV", RULES)[0] == "monthly"
    assert outage_tier(untiered, "380V", RULES)[0] == "daily"
    monthly = record.model_copy(
        update={"plan": record.plan.model_copy(update={"outage_tier": "monthly"})}
    )
    assert outage_tier(monthly, "35kV", RULES)[0] == "monthly"
    # Only a decided plan is read.
    review = record.model_copy(update={"state": "joint_review"})
    assert not decided_plan(review) and not decided_plan(None)
    bay, _ = hv_plan(centre_point())
    assert plan_feeder(bay) == "SAN-FD00004"


def test_energization_is_possible_at_the_latest_start_of_the_energize_clocks() -> None:
    def ev(*starts: datetime | None) -> Evaluation:
        monitors = [MonitorOut.model_construct(code="energize", started_at=s) for s in starts]
        other = MonitorOut.model_construct(code="plan_reply", started_at=at(2026, 9, 1))
        return Evaluation.model_construct(monitors=[other, *monitors])

    assert energization_possible_at(ev()) is None
    assert energization_possible_at(ev(at(2026, 10, 9), None)) is None
    assert energization_possible_at(ev(at(2026, 10, 9), at(2026, 10, 12))) == at(2026, 10, 12)


def test_an_outage_where_the_plan_says_live_line_work_is_flagged_once() -> None:
    record, _ = hv_plan(SMX_HV)
    assert record.plan is not None
    live = record.model_copy(update={"plan": record.plan.model_copy(update={"live_line": True})})
    outage = OutageRecord(id="O-1", tier="daily", state="submitted")
    now = at(2026, 10, 12)
    flag = live_line_flag(outage, live, now)
    assert flag is not None and flag.code == LIVE_LINE_FLAG and "三.5" in flag.source
    assert live_line_flag(outage, record, now) is None
    flagged = outage.model_copy(update={"flags": [flag]})
    assert live_line_flag(flagged, live, now) is None
    assert live_line_flag(outage.model_copy(update={"state": "rejected"}), live, now) is None
    assert live_line_flag(outage.model_copy(update={"tier": "live_line"}), live, now) is None


def test_plan_record_without_a_plan_is_not_decided() -> None:
    bare = PlanRecord(
        version=1, kind="supply", trigger="x", state="proposed", made_at=at(2026, 1, 5)
    )
    assert not decided_plan(bare) and plan_feeder(bare) is None
