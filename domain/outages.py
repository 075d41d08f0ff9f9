"""Outage scheduling (停送电计划) as pure decisions: when an application's energization needs its
outage, which plan tier it goes into, and the earliest slot that plan can take.

- When: as soon as energization is possible, i.e. every clock of the pack's `energize` monitors
  has started (henan: the latest of completion inspection, fee, contract, dispatch agreement
  and grid works; 000 附件4 送(停)电管理), and the application has a decided plan.
- Tier: live-line work where the plan says the works allow it (no outage, no notice); else the
  tier the plan decided from the pack's tier table (000 三(二)4); else the pack's default by
  voltage.
- Slot: the earliest working day that the tier's plan has not closed for, that leaves the
  affected customers their notice period, and that still has a crew free in the unit; or an
  outage already planned on the same feeder within the sharing window (一停多用).

Every rule is the pack's (`outage_rules`), and every slot says which rules decided it.
No clock, no database: the caller passes `now`, the calendar and what is already booked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from calendars.calendar import Calendar
from contracts.outages import (
    LIVE_LINE_FLAG,
    OutageFlag,
    OutageRecord,
    OutageRules,
    OutageTier,
    Slot,
)
from contracts.plans import PlanRecord
from policies.engine import Evaluation
from policies.schema import ResolvedPolicy, Source

#: How far ahead a slot is looked for before giving up (a year and a little).
HORIZON_DAYS = 400
ENERGIZE = "energize"
#: 002 附件2 三.5: 对于具备带电作业条件而采取停电作业的，每次考核 10000 元.
LIVE_LINE_FLAG_SOURCE = "002_5323f2d8d60c3421.txt 附件2 三.5 具备带电作业条件而采取停电作业的"
_TIER_LABELS = {
    "monthly": "月停（送）电计划",
    "biweekly": "双周停（送）电计划",
    "daily": "日停（送）电计划",
    "live_line": "不停电作业",
}


class NoSlot(ValueError):
    """No slot within the horizon (every day closed, or every crew booked)."""


def _cite(table: dict[str, object]) -> str:
    return Source.model_validate(table["source"]).cite()


def outage_rules(policy: ResolvedPolicy) -> OutageRules:
    """The pack's outage parameters (national defaults, a unit's overrides), with clauses."""
    p = policy.params
    cutoffs, notice, crews = p["outage_cutoffs"], p["outage_notice"], p["outage_crews"]
    sharing, hours, tiers = p["outage_sharing"], p["outage_hours"], p["outage_tier_defaults"]
    notice_days = notice["notice"]
    if notice_days["unit"] != "day":
        raise ValueError("outage_notice.notice: give the notice period in days")
    window = sharing["window"]
    if window["unit"] != "workday":
        raise ValueError("outage_sharing.window: give the sharing window in working days")
    return OutageRules(
        monthly_day_of_month=cutoffs["monthly_day_of_month"],
        biweekly_weekday=cutoffs["biweekly_weekday"],
        daily_workdays_before=cutoffs["daily_workdays_before"],
        notice_days=int(notice_days["amount"]),
        crews_per_day=crews["crews_per_day"],
        sharing_workdays=int(window["amount"]),
        start_time=hours["start"],
        end_time=hours["end"],
        tier_defaults={k: list(v) for k, v in tiers.items() if k != "source"},
        sources={
            "cutoffs": _cite(cutoffs),
            "notice": _cite(notice),
            "crews": _cite(crews),
            "sharing": _cite(sharing),
            "hours": _cite(hours),
            "tier_defaults": _cite(tiers),
        },
    )


# --------------------------------------------------------------------------- when and which tier


def energization_possible_at(ev: Evaluation) -> datetime | None:
    """When energization became possible: the latest start of the pack's `energize` monitors
    (each starts at the latest of its prerequisites); None while one has not started, or when
    the application has no such monitor."""
    starts = [m.started_at for m in ev.monitors if m.code == ENERGIZE]
    if not starts or any(s is None for s in starts):
        return None
    return max(s for s in starts if s is not None)


def decided_plan(record: PlanRecord | None) -> bool:
    """A plan the outage can be read from: issued or approved, not in review or refused."""
    return (
        record is not None and record.plan is not None and record.state in ("proposed", "approved")
    )


def outage_tier(record: PlanRecord, voltage: str, rules: OutageRules) -> tuple[OutageTier, str]:
    """The tier and why: live-line work where the plan allows it, else the plan's tier, else
    the pack's default for the access voltage."""
    plan = record.plan
    assert plan is not None
    if plan.live_line:
        return "live_line", f"plan v{record.version}: {plan.decision('live_line').source}"
    if plan.outage_tier in ("monthly", "biweekly", "daily"):
        tier: OutageTier = plan.outage_tier  # type: ignore[assignment]
        return tier, f"plan v{record.version}: {plan.decision('outage_tier').source}"
    tiers: tuple[OutageTier, ...] = ("monthly", "biweekly", "daily")
    for name in tiers:
        if voltage in rules.tier_defaults.get(name, []):
            return name, rules.sources["tier_defaults"]
    return "daily", rules.sources["tier_defaults"] + " (voltage not tabled: the daily plan)"


def plan_feeder(record: PlanRecord) -> str | None:
    """The feeder the connection is made on (the first source's), or None."""
    plan = record.plan
    if plan is None or not plan.power_sources:
        return None
    return plan.power_sources[0].connection_point.feeder


# --------------------------------------------------------------------------- cutoffs


def _working_on_or_before(cal: Calendar, d: date) -> date:
    return d if cal.is_workday(d) else cal.add_workdays(d, -1)


def cutoff(tier: OutageTier, day: date, cal: Calendar, rules: OutageRules) -> date | None:
    """The last day on which an outage on `day` can still be put into `tier`'s plan (the plan
    closes at the end of it); None for live-line work (随报随接: no plan to close)."""
    if tier == "live_line":
        return None
    if tier == "daily":
        return cal.add_workdays(day, -rules.daily_workdays_before)
    if tier == "monthly":
        first = day.replace(day=1)
        before = (first - timedelta(days=1)).replace(day=rules.monthly_day_of_month)
        return _working_on_or_before(cal, before)
    monday = day - timedelta(days=day.weekday())
    closing = monday - timedelta(days=7) + timedelta(days=rules.biweekly_weekday - 1)
    return _working_on_or_before(cal, closing)


# --------------------------------------------------------------------------- the slot


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def window_of(day: date, cal: Calendar, rules: OutageRules) -> tuple[datetime, datetime]:
    """The outage's hours on `day`, in the calendar's zone."""
    zone = cal.zone
    return (
        datetime.combine(day, _clock(rules.start_time), tzinfo=zone),
        datetime.combine(day, _clock(rules.end_time), tzinfo=zone),
    )


@dataclass(frozen=True)
class Refusal:
    """Why one day cannot take the outage (the first rule it fails)."""

    rule: str
    text: str


def day_refused(
    tier: OutageTier,
    day: date,
    now: datetime,
    cal: Calendar,
    rules: OutageRules,
    booked: Mapping[date, int],
) -> Refusal | None:
    """The first rule `day` fails for an outage planned at `now`, or None: it may take it."""
    today = now.astimezone(cal.zone).date()
    if day <= today:
        return Refusal("today", "not before tomorrow")
    if not cal.is_workday(day):
        return Refusal("workday", "not a working day")
    closes = cutoff(tier, day, cal, rules)
    if closes is not None and closes < today:
        return Refusal("cutoff", f"the {tier} plan for {day} closed on {closes}")
    if tier == "live_line":
        return None
    start, _ = window_of(day, cal, rules)
    if start < now + timedelta(days=rules.notice_days):
        return Refusal("notice", f"less than {rules.notice_days} days' notice")
    if booked.get(day, 0) >= rules.crews_per_day:
        return Refusal("crews", f"{rules.crews_per_day} outage(s) already booked in the unit")
    return None


def earliest_slot(
    tier: OutageTier,
    now: datetime,
    possible_at: datetime,
    cal: Calendar,
    rules: OutageRules,
    booked: Mapping[date, int] | None = None,
    avoid: frozenset[date] = frozenset(),
) -> Slot:
    """The earliest day that takes the outage, from the day energization is possible on;
    `booked`: outages per day already planned in the unit; `avoid`: days dispatch refused."""
    booked = booked or {}
    zone = cal.zone
    day = max(now, possible_at).astimezone(zone).date()
    skipped: dict[str, int] = {}
    for _ in range(HORIZON_DAYS):
        day += timedelta(days=1)
        refusal = (
            Refusal("rejected", "dispatch refused this day")
            if day in avoid
            else day_refused(tier, day, now, cal, rules, booked)
        )
        if refusal is None:
            start, end = window_of(day, cal, rules)
            return Slot(
                day=day,
                start_at=start,
                end_at=end,
                explanation=_explain(tier, day, cal, rules, skipped),
            )
        skipped[refusal.rule] = skipped.get(refusal.rule, 0) + 1
    raise NoSlot(f"tier: no {tier} slot within {HORIZON_DAYS} days of {day}")


def _explain(
    tier: OutageTier, day: date, cal: Calendar, rules: OutageRules, skipped: Mapping[str, int]
) -> list[str]:
    lines = [f"{_TIER_LABELS[tier]} ({tier}) on {day}"]
    closes = cutoff(tier, day, cal, rules)
    if closes is not None:
        lines.append(f"cutoff: the plan for {day} closes on {closes} ({rules.sources['cutoffs']})")
    if tier != "live_line":
        lines.append(f"notice: at least {rules.notice_days} days ({rules.sources['notice']})")
        lines.append(f"crews: {rules.crews_per_day} per working day ({rules.sources['crews']})")
    if skipped:
        passed = ", ".join(f"{n} day(s) by {rule}" for rule, n in sorted(skipped.items()))
        lines.append(f"days passed over: {passed}")
    return lines


# --------------------------------------------------------------------------- sharing


@dataclass(frozen=True)
class Planned:
    """An outage already planned on the feeder (a live one: proposed, submitted, approved)."""

    id: str
    day: date
    tier: str


def shared_outage(
    planned: Sequence[Planned],
    earliest: date,
    possible_on: date,
    now: datetime,
    cal: Calendar,
    rules: OutageRules,
    avoid: frozenset[str] = frozenset(),
) -> Planned | None:
    """The outage to join instead of adding one: the earliest already planned on the same
    feeder whose day is within the sharing window (working days) of `earliest`, not before
    energization is possible, and still to come. Its customers are told already."""
    today = now.astimezone(cal.zone).date()
    best: Planned | None = None
    for p in planned:
        if p.id in avoid or p.tier == "live_line" or p.day <= today or p.day < possible_on:
            continue
        if abs(cal.workdays_between(min(p.day, earliest), max(p.day, earliest))) > (
            rules.sharing_workdays
        ):
            continue
        if best is None or (p.day, p.id) < (best.day, best.id):
            best = p
    return best


# --------------------------------------------------------------------------- flags


def live_line_flag(
    record: OutageRecord, plan: PlanRecord | None, now: datetime
) -> OutageFlag | None:
    """The flag of an outage taken where the plan says live-line work is possible (the plan
    may have said so only after the outage was planned), unless raised already."""
    if record.tier == "live_line" or record.state not in ("proposed", "submitted", "approved"):
        return None
    if plan is None or plan.plan is None or not plan.plan.live_line:
        return None
    if any(f.code == LIVE_LINE_FLAG for f in record.flags):
        return None
    return OutageFlag(code=LIVE_LINE_FLAG, source=LIVE_LINE_FLAG_SOURCE, at=now)
