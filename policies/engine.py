"""The SLA engine: (policy, calendar, application, events, as_of) → monitors.

Pure and deterministic: no I/O, no clock reads, no randomness; safe inside Temporal workflow code
(the workflow passes `workflow.now()` as `as_of`). The calendar is anything implementing
`CalendarLike` (calendars.Calendar does).

Time semantics (DESIGN.md §3): `workday`/`workhour` run on the calendar's business clock
(a working day is `day_hours` of it: 24 h under the working-day clock); `day`/`hour`/`minute`
are wall-clock. A level's instant is when the monitor's *counted* time (business time since the
start, minus pauses) reaches the level's amount: blue = provincial − blue lead, yellow =
provincial, orange = national − orange lead, red = national.
"""

from __future__ import annotations

import weakref
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from calendars.zone import is_aware
from policies.codes import LEVELS, NOTICE_CODES, PAUSE_EVENT, RESUME_EVENT, STAGE_CODES
from policies.rules import apply_case, default_lead
from policies.schema import (
    Condition,
    Duration,
    EventSpec,
    MonitorRule,
    ResolvedPolicy,
    Source,
    TooShortRule,
)

State = Literal["pending", "running", "paused", "met", "breached"]


class CalendarLike(Protocol):
    """What the engine needs from a business calendar (calendars.Calendar implements it)."""

    @property
    def version(self) -> str: ...

    def add_work_time(self, t: datetime, delta: timedelta) -> datetime: ...

    def work_time_between(self, a: datetime, b: datetime) -> timedelta: ...

    def provisional_between(self, a: datetime, b: datetime) -> bool: ...


# ---------------------------------------------------------------------------- input models


class GridWorks(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    voltage: str | None = None


class Application(BaseModel):
    """The attributes rules are selected by (the body of creating an application)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    business_type: str
    voltage: str | None = None
    capacity_kva: float | None = None
    capacity_kw: float | None = None
    dual_power: bool = False
    important: bool = False
    small_micro: bool = False
    area: Literal["urban", "rural"] | None = None
    grid_works: GridWorks | None = None
    channel: str = "counter"
    accepted_at: datetime
    dg_variant: str | None = None
    meter_change: bool | None = None
    outside_line_m: float | None = None
    flags: tuple[str, ...] = ()

    @field_validator("accepted_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if not is_aware(value):
            raise ValueError("accepted_at must carry a time zone offset")
        return value


class Event(BaseModel):
    """`<code>.started` / `<code>.completed`, or `pause` / `resume` (optionally for some codes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: str
    at: datetime
    reason: str | None = None
    #: For pause/resume: the monitor codes (or rule ids) it applies to; all when absent.
    codes: tuple[str, ...] | None = None

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if not is_aware(value):
            raise ValueError("event time must carry a time zone offset")
        return value


# ---------------------------------------------------------------------------- output models


class Threshold(BaseModel):
    level: str
    #: When the level is reached; null while the monitor is pending or paused before it.
    due_at: datetime | None
    #: Counted time at which the level fires (in the limit's unit).
    after: Duration
    reached: bool
    recipients: list[str] = Field(default_factory=list)


class PauseOut(BaseModel):
    start: datetime
    end: datetime | None
    reason: str
    kind: Literal["customer", "policy"]


class Elapsed(BaseModel):
    amount: float
    unit: str
    seconds: float


class TooShortOut(BaseModel):
    id: str
    label: str | None
    provincial: Duration | None
    national: Duration | None
    inclusive: bool
    started_at: datetime | None
    #: Finishing before (or, if inclusive, at) this instant is too short.
    until: datetime | None
    flagged: bool | None
    result: str
    source: str


class MonitorOut(BaseModel):
    id: str
    code: str
    label: str | None
    state: State
    started_at: datetime | None
    stopped_at: datetime | None
    provincial_limit: Duration | None
    national_limit: Duration | None
    provincial_due_at: datetime | None
    national_due_at: datetime | None
    thresholds: list[Threshold]
    level: str | None
    next_due_at: datetime | None
    elapsed: Elapsed | None
    pauses: list[PauseOut]
    result: str | None
    recipients: dict[str, list[str]]
    coordination: bool
    too_short: TooShortOut | None
    calendar_version: str
    provisional: bool
    source: str
    sources: list[str]
    flags: list[str]
    notes: list[str]


class Evaluation(BaseModel):
    unit: str
    policy_version: str
    calendar_region: str
    calendar_version: str
    as_of: datetime
    accepted_on: date
    monitors: list[MonitorOut]
    next_due_at: datetime | None
    provisional: bool
    too_short: list[str]
    skipped_stages: list[str]


# ---------------------------------------------------------------------------- clocks


class _Clock(Protocol):
    def add(self, t: datetime, delta: timedelta) -> datetime: ...

    def between(self, a: datetime, b: datetime) -> timedelta: ...


class _WallClock:
    def add(self, t: datetime, delta: timedelta) -> datetime:
        return t + delta

    def between(self, a: datetime, b: datetime) -> timedelta:
        return b - a if b > a else timedelta(0)


class _WorkClock:
    def __init__(self, calendar: CalendarLike) -> None:
        self._cal = calendar
        self._adds: dict[tuple[datetime, timedelta], datetime] = {}

    def add(self, t: datetime, delta: timedelta) -> datetime:
        key = (t, delta)
        hit = self._adds.get(key)
        if hit is None:
            hit = self._cal.add_work_time(t, delta)
            self._adds[key] = hit
        return hit

    def between(self, a: datetime, b: datetime) -> timedelta:
        if b <= a:
            return timedelta(0)
        return self._cal.work_time_between(a, b)


_WALL = _WallClock()
# Output order: the order stages happen in, whole-process limits last.
_ORDER: dict[str, int] = {
    code: i
    for i, code in enumerate(
        [
            "appointment_confirm",
            "accept",
            "site_survey",
            "joint_survey",
            "plan_reply",
            "admin_approval",
            "grid_works",
            "design_review",
            "joint_drawing_review",
            "customer_works",
            "mid_inspection",
            "joint_mid_inspection",
            "completion_inspection",
            "joint_acceptance",
            "fee_payment",
            "contract",
            "meter_install",
            "dispatch_agreement",
            "protection_setting",
            "outage_plan",
            "energize",
            "equipment_sealing",
            "terminal_commissioning",
            "archive",
            "full_process",
        ]
    )
}
_ZERO = timedelta(0)
Interval = tuple[datetime, datetime | None]


def _advance(
    clock: _Clock, start: datetime, amount: timedelta, pauses: Sequence[Interval]
) -> datetime | None:
    """The instant at which `amount` of counted time has run since `start`, skipping pauses.

    None if an open pause (not yet resumed) stops the clock before that.
    """
    t = start
    remaining = amount
    for a, b in pauses:
        if b is not None and b <= t:
            continue
        if a <= t:
            if b is None:
                return None
            t = b
            continue
        candidate = clock.add(t, remaining)
        if candidate <= a:
            return candidate
        remaining -= clock.between(t, a)
        if b is None:
            return None
        t = b
    return clock.add(t, remaining)


def _counted(
    clock: _Clock, start: datetime, end: datetime, pauses: Sequence[Interval]
) -> timedelta:
    total = clock.between(start, end)
    for a, b in pauses:
        lo = max(a, start)
        hi = end if b is None else min(b, end)
        if hi > lo:
            total -= clock.between(lo, hi)
    return max(total, _ZERO)


def _merge_intervals(items: Iterable[Interval]) -> list[Interval]:
    out: list[list[Any]] = []
    for a, b in sorted(items, key=lambda x: x[0]):
        if out and (out[-1][1] is None or a <= out[-1][1]):
            if out[-1][1] is not None and (b is None or b > out[-1][1]):
                out[-1][1] = b
            continue
        out.append([a, b])
    return [(a, b) for a, b in out]


# ---------------------------------------------------------------------------- matching


class _Facts:
    """The application's attributes, normalised once per evaluation."""

    __slots__ = (
        "accepted_on",
        "app",
        "business_types",
        "flags",
        "key",
        "small_micro",
    )

    def __init__(self, policy: ResolvedPolicy, app: Application, tz: tzinfo) -> None:
        self.app = app
        self.accepted_on = app.accepted_at.astimezone(tz).date()
        small_micro = app.small_micro or app.business_type == "lv_small_micro"
        self.small_micro = small_micro
        types = {app.business_type}
        if app.business_type == "lv_non_residential" and small_micro:
            types.add("lv_small_micro")
        self.flags = frozenset(app.flags)
        self.business_types = frozenset(types)
        # Aliases are applied after the base set exists, so their `when` can test it.
        for rule in policy.business_type_rules:
            applies = rule.business_type in types and rule.in_force(self.accepted_on)
            if applies and (rule.when is None or self.matches(rule.when)):
                assert rule.treat_as is not None
                types.add(rule.treat_as)
        self.business_types = frozenset(types)
        self.key = (
            tuple(sorted(self.business_types)),
            app.voltage,
            app.capacity_kva,
            app.capacity_kw,
            app.dual_power,
            app.important,
            small_micro,
            app.area,
            app.grid_works,
            app.channel,
            app.dg_variant,
            app.meter_change,
            app.outside_line_m,
            self.flags,
        )

    def matches(self, c: Condition) -> bool:
        app = self.app
        if c.business_types is not None and not self.business_types.intersection(c.business_types):
            return False
        if c.voltages is not None and app.voltage not in c.voltages:
            return False
        if c.dual_power is not None and c.dual_power != app.dual_power:
            return False
        if c.important is not None and c.important != app.important:
            return False
        if c.small_micro is not None and c.small_micro != self.small_micro:
            return False
        if c.area is not None and c.area != app.area:
            return False
        gw = app.grid_works
        if c.grid_works is not None and c.grid_works != (gw is not None):
            return False
        if c.grid_works_types is not None and (gw is None or gw.type not in c.grid_works_types):
            return False
        if c.grid_works_voltages is not None:
            gw_voltage = (gw.voltage or app.voltage) if gw is not None else None
            if gw_voltage not in c.grid_works_voltages:
                return False
        if c.channels is not None and app.channel not in c.channels:
            return False
        cap = app.capacity_kva
        if c.capacity_kva_gt is not None and (cap is None or not cap > c.capacity_kva_gt):
            return False
        if c.capacity_kva_le is not None and (cap is None or not cap <= c.capacity_kva_le):
            return False
        kw = app.capacity_kw
        if c.capacity_kw_gt is not None and (kw is None or not kw > c.capacity_kw_gt):
            return False
        if c.capacity_kw_le is not None and (kw is None or not kw <= c.capacity_kw_le):
            return False
        line = app.outside_line_m
        if c.outside_line_m_gt is not None and (line is None or not line > c.outside_line_m_gt):
            return False
        if c.outside_line_m_le is not None and (line is None or not line <= c.outside_line_m_le):
            return False
        if c.dg_variants is not None and app.dg_variant not in c.dg_variants:
            return False
        if c.meter_change is not None and c.meter_change != bool(app.meter_change):
            return False
        if c.flags is not None and not self.flags.issuperset(c.flags):
            return False
        if c.not_flags is not None and self.flags.intersection(c.not_flags):
            return False
        return not (c.any_of is not None and not any(self.matches(s) for s in c.any_of))


class _Plan:
    """A monitor rule with its variants applied, leads/levels settled and everything that does not
    depend on events precomputed (selections are cached, so this runs once per application kind).
    """

    __slots__ = (
        "blue_lead",
        "flags",
        "levels",
        "limit_unit",
        "nat_td",
        "notes",
        "orange_lead",
        "pending_thresholds",
        "prov_td",
        "recipients",
        "rule",
        "source",
        "sources",
        "targets",
    )

    def __init__(
        self,
        policy: ResolvedPolicy,
        rule: MonitorRule,
        levels: Sequence[str],
        blue_lead: Duration | None,
        orange_lead: Duration | None,
        sources: list[Source],
        flags: list[str],
        notes: list[str],
    ) -> None:
        day_hours = policy.settings.day_hours
        self.rule = rule
        self.levels: list[str] = list(levels)
        self.blue_lead = blue_lead
        self.orange_lead = orange_lead
        self.sources = [_cite(s) for s in sources]
        main = rule.sources[-1] if rule.sources else rule.source
        self.source = _cite(main) if main else ""
        self.flags = flags
        self.notes = notes
        prov, nat = rule.provincial, rule.national
        self.limit_unit = _unit_of(prov, nat)
        self.prov_td = prov.to_timedelta(day_hours) if prov is not None else None
        self.nat_td = nat.to_timedelta(day_hours) if nat is not None else None
        coord = bool(rule.coordination)
        self.recipients = {
            lv: _recipients(policy, rule.recipients, lv, coord) for lv in self.levels
        }
        targets: list[tuple[str, Duration, timedelta]] = []
        for lv in self.levels:
            amount: Duration | None = None
            if lv == "blue" and prov is not None and blue_lead is not None:
                amount = _minus(prov, blue_lead, day_hours)
            elif lv == "yellow":
                amount = prov
            elif lv == "orange" and nat is not None and orange_lead is not None:
                amount = _minus(nat, orange_lead, day_hours)
            elif lv == "red":
                amount = nat
            if amount is not None:
                targets.append((lv, amount, amount.to_timedelta(day_hours)))
        self.targets = targets
        # Shared by every pending evaluation of this plan (outputs are read-only by contract).
        self.pending_thresholds = [
            Threshold(
                level=lv, due_at=None, after=amt, reached=False, recipients=self.recipients[lv]
            )
            for lv, amt, _ in targets
        ]


class _Selection:
    __slots__ = ("attached", "plans", "skipped", "standalone", "too_short")

    def __init__(
        self, plans: list[_Plan], too_short: list[TooShortRule], skipped: frozenset[str]
    ) -> None:
        self.plans = plans
        self.too_short = too_short
        self.skipped = skipped
        # Each monitor carries the first too-short rule of its code not taken by an earlier
        # monitor; the rules left over are reported as monitors of their own. Decided once per
        # selection (selections are cached), for evaluate and clocks_started alike.
        by_code: dict[str, list[TooShortRule]] = {}
        for t in too_short:
            assert t.code is not None
            by_code.setdefault(t.code, []).append(t)
        self.attached: list[TooShortRule | None] = []
        for plan in plans:
            left = by_code.get(plan.rule.code or "")
            self.attached.append(left.pop(0) if left else None)
        taken = {t.id for t in self.attached if t is not None}
        self.standalone = [t for t in too_short if t.id not in taken]


_SELECTIONS_PER_POLICY_MAX = 16384


class _PolicyCache:
    """What the engine derives from one policy object: effective-date boundaries, selections.

    Held per live policy object and dropped when the policy is garbage-collected, so workflows
    that each carry their own policy snapshot do not accumulate cached rules.
    """

    __slots__ = ("bounds", "selections")

    def __init__(self, policy: ResolvedPolicy) -> None:
        found: set[date] = set()
        rules: list[Any] = [
            *policy.monitors,
            *policy.too_short,
            *policy.stages,
            *policy.business_type_rules,
        ]
        for m in policy.monitors:
            rules.extend(m.variants or [])
        for r in rules:
            for d in (r.effective_from, r.effective_until):
                if d is not None:
                    found.add(d)
        self.bounds = sorted(found)
        self.selections: dict[tuple[Any, ...], _Selection] = {}


_POLICY_CACHES: dict[int, _PolicyCache] = {}


def _policy_cache(policy: ResolvedPolicy) -> _PolicyCache:
    cache = _POLICY_CACHES.get(id(policy))
    if cache is None:
        cache = _PolicyCache(policy)
        _POLICY_CACHES[id(policy)] = cache
        # Runs when the policy is freed, before its id can be reused by another object.
        weakref.finalize(policy, _POLICY_CACHES.pop, id(policy), None)
    return cache


def _skipped_stages(policy: ResolvedPolicy, facts: _Facts) -> frozenset[str]:
    exists: dict[str, bool] = {}
    for rule in policy.stages:
        if rule.stage is None or not rule.in_force(facts.accepted_on):
            continue
        ok = rule.when is None or facts.matches(rule.when)
        exists[rule.stage] = exists.get(rule.stage, False) or ok
    return frozenset(stage for stage, ok in exists.items() if not ok)


def _plan(policy: ResolvedPolicy, rule: MonitorRule, facts: _Facts) -> _Plan:
    sources = list(rule.sources or ([rule.source] if rule.source else []))
    flags = list(rule.flags or [])
    notes = list(rule.notes or [])
    eff = rule
    for variant in rule.variants or []:
        if not variant.in_force(facts.accepted_on):
            continue
        if variant.when is not None and not facts.matches(variant.when):
            continue
        eff = apply_case(eff, variant)
        if variant.source is not None and variant.source not in sources:
            sources.append(variant.source)
        flags += [f for f in variant.flags or [] if f not in flags]
        notes += variant.notes or []
    day_hours = policy.settings.day_hours
    wr = policy.warning_rules
    blue_lead = eff.blue_lead
    if blue_lead is None and eff.provincial is not None:
        blue_lead = default_lead(wr.blue, eff.provincial, day_hours)
    orange_lead = eff.orange_lead
    if orange_lead is None and eff.national is not None:
        if eff.code in NOTICE_CODES and wr.notice_orange is not None:
            orange_lead = wr.notice_orange
        else:
            orange_lead = default_lead(wr.orange, eff.national, day_hours)
    if eff.levels is not None:
        levels = list(eff.levels)
    else:
        levels = []
        equal = (
            eff.provincial is not None
            and eff.national is not None
            and eff.provincial.unit == eff.national.unit
            and eff.provincial.amount == eff.national.amount
        )
        if equal and wr.equal_limits_levels is not None:
            levels = list(wr.equal_limits_levels)
        else:
            if eff.provincial is not None:
                levels += ["blue", "yellow"]
            if eff.national is not None:
                levels += ["orange", "red"]
    usable = {
        "blue": eff.provincial is not None and blue_lead is not None,
        "yellow": eff.provincial is not None,
        "orange": eff.national is not None and orange_lead is not None,
        "red": eff.national is not None,
    }
    levels = [lv for lv in LEVELS if lv in levels and usable[lv]]
    return _Plan(policy, eff, levels, blue_lead, orange_lead, sources, flags, notes)


def _select(policy: ResolvedPolicy, facts: _Facts) -> _Selection:
    cache = _policy_cache(policy)
    # The acceptance date matters only through which effective-date range it falls in.
    key = (bisect_right(cache.bounds, facts.accepted_on), facts.key)
    hit = cache.selections.get(key)
    if hit is not None:
        return hit
    skipped = _skipped_stages(policy, facts)
    plans: list[_Plan] = []
    for rule in policy.monitors:
        if rule.enabled is False or not rule.in_force(facts.accepted_on):
            continue
        if rule.when is not None and not facts.matches(rule.when):
            continue
        if rule.code in skipped:
            continue
        plans.append(_plan(policy, rule, facts))
    shorts = [
        t
        for t in policy.too_short
        if t.enabled is not False
        and t.in_force(facts.accepted_on)
        and (t.when is None or facts.matches(t.when))
        and t.code not in skipped
    ]
    selection = _Selection(plans, shorts, skipped)
    if len(cache.selections) >= _SELECTIONS_PER_POLICY_MAX:
        cache.selections.clear()
    cache.selections[key] = selection
    return selection


# ---------------------------------------------------------------------------- events


class _Timeline:
    """Events up to `as_of`, by name, with aliases applied and `accept.started` implied."""

    __slots__ = ("by_name", "pauses_raw")

    def __init__(
        self,
        policy: ResolvedPolicy,
        app: Application,
        events: Sequence[Event],
        as_of: datetime,
    ) -> None:
        by_name: dict[str, list[datetime]] = {}
        pauses_raw: list[Event] = []
        aliases = policy.event_aliases
        for ev in sorted(events, key=lambda e: e.at):
            if ev.at > as_of:
                continue
            if ev.event in (PAUSE_EVENT, RESUME_EVENT):
                pauses_raw.append(ev)
                continue
            code, _, suffix = ev.event.rpartition(".")
            name = f"{aliases.get(code, code)}.{suffix}"
            by_name.setdefault(name, []).append(ev.at)
        if "accept.started" not in by_name and app.accepted_at <= as_of:
            by_name["accept.started"] = [app.accepted_at]
        self.by_name = by_name
        self.pauses_raw = pauses_raw

    def occurrence(
        self, name: str, which: str, not_before: datetime | None = None
    ) -> datetime | None:
        times = self.by_name.get(name)
        if not times:
            return None
        if not_before is not None:
            times = [t for t in times if t >= not_before]
            if not times:
                return None
        return times[0] if which == "first" else times[-1]

    def customer_pauses(
        self, rule_id: str, code: str
    ) -> list[tuple[datetime, datetime | None, str]]:
        out: list[tuple[datetime, datetime | None, str]] = []
        open_at: datetime | None = None
        reason = ""
        for ev in self.pauses_raw:
            if ev.codes is not None and code not in ev.codes and rule_id not in ev.codes:
                continue
            if ev.event == PAUSE_EVENT and open_at is None:
                open_at = ev.at
                reason = ev.reason or "customer hold"
            elif ev.event == RESUME_EVENT and open_at is not None:
                out.append((open_at, ev.at, reason))
                open_at = None
        if open_at is not None:
            out.append((open_at, None, reason))
        return out


def _stage_of(name: str) -> str:
    return name.rpartition(".")[0]


def _resolve_spec(
    spec: EventSpec,
    timeline: _Timeline,
    skipped: frozenset[str],
    default: str,
    not_before: datetime | None,
    tz: tzinfo,
) -> datetime | None:
    if spec.event is not None:
        found = timeline.occurrence(spec.event, spec.occurrence or default, not_before)
    else:
        names = [n for n in spec.events if _stage_of(n) not in skipped]
        if not names:
            return None
        if spec.latest_of is not None:
            times = [timeline.occurrence(n, spec.occurrence or "last", not_before) for n in names]
            if any(t is None for t in times):
                return None
            found = max(t for t in times if t is not None)
        else:
            present = [
                t
                for t in (
                    timeline.occurrence(n, spec.occurrence or "first", not_before) for n in names
                )
                if t is not None
            ]
            found = min(present) if present else None
    if found is not None and spec.truncate == "day":
        local = found.astimezone(tz)
        found = datetime.combine(local.date(), time(0), tzinfo=tz)
    return found


# ---------------------------------------------------------------------------- evaluation


def _snap(t: datetime, check_times: list[str], tz: tzinfo) -> datetime:
    """The first of the daily check times at or after `t`."""
    local = t.astimezone(tz)
    best: datetime | None = None
    for day_offset in (0, 1):
        day = local.date() + timedelta(days=day_offset)
        for text in check_times:
            hh, mm = text.split(":")
            cand = datetime.combine(day, time(int(hh), int(mm)), tzinfo=tz)
            if cand >= local and (best is None or cand < best):
                best = cand
        if best is not None:
            return best
    return t


@lru_cache(maxsize=4096)
def _cite(src: Source) -> str:
    return src.cite()


def _recipients(policy: ResolvedPolicy, profile: str | None, level: str, coord: bool) -> list[str]:
    if profile is None:
        return []
    prof = policy.recipient_profiles.get(profile)
    if prof is None:
        return []
    lvl = prof.for_level(level)
    if lvl is None:
        return []
    roles = list(lvl.roles)
    if coord:
        roles += [r for r in lvl.coordination_roles if r not in roles]
    return roles


def _unit_of(*limits: Duration | None) -> str:
    for lim in limits:
        if lim is not None:
            return lim.unit
    return "workday"


def _as_amount(delta: timedelta, unit: str, day_hours: float) -> float:
    hours = delta.total_seconds() / 3600.0
    if unit == "workday":
        return round(hours / day_hours, 4)
    if unit == "day":
        return round(hours / 24.0, 4)
    if unit == "minute":
        return round(hours * 60.0, 4)
    return round(hours, 4)


def _minus(limit: Duration, lead: Duration, day_hours: float) -> Duration:
    """limit − lead, in the limit's unit where it divides evenly, else in hours of that clock."""
    hours = limit.business_hours(day_hours) - lead.business_hours(day_hours)
    if limit.unit == lead.unit:
        amount = limit.amount - lead.amount
        return Duration(amount=amount, unit=limit.unit)
    value: float = hours
    amount = int(value) if value == int(value) else value
    return Duration(amount=amount, unit="workhour" if limit.working else "hour")


def _pause_intervals(
    rule: MonitorRule,
    timeline: _Timeline,
    skipped: frozenset[str],
    start: datetime,
) -> list[PauseOut]:
    out: list[PauseOut] = []
    for spec in rule.pauses or []:
        if _stage_of(spec.from_event) in skipped:
            continue
        starts = timeline.by_name.get(spec.from_event, [])
        ends = timeline.by_name.get(spec.to_event, [])
        for a in starts:
            b = next((e for e in ends if e >= a), None)
            out.append(PauseOut(start=a, end=b, reason=spec.reason, kind="policy"))
    if rule.customer_pauses is not False:
        assert rule.code is not None
        for a, b, reason in timeline.customer_pauses(rule.id, rule.code):
            out.append(PauseOut(start=a, end=b, reason=reason, kind="customer"))
    # Only time after the start can be excluded.
    return [p for p in out if p.end is None or p.end > start]


def _too_short(
    rule: TooShortRule,
    timeline: _Timeline,
    skipped: frozenset[str],
    clock_for: Any,
    day_hours: float,
    tz: tzinfo,
    as_of: datetime,
    cache: dict[tuple[Any, ...], Any] | None = None,
) -> TooShortOut:
    assert rule.start is not None and rule.stop is not None
    start = _resolve_spec(rule.start, timeline, skipped, "first", None, tz)
    bound = rule.provincial or rule.national
    assert bound is not None and rule.inclusive is not None
    until: datetime | None = None
    flagged: bool | None = None
    if start is not None:
        until_key = ("until", rule.id, start)
        until = cache.get(until_key) if cache is not None else None
        if until is None:
            until = clock_for(bound).add(start, bound.to_timedelta(day_hours))
            if cache is not None:
                cache[until_key] = until
        stop = _resolve_spec(rule.stop, timeline, skipped, "last", start, tz)
        if stop is not None:
            flagged = stop < until or (rule.inclusive and stop == until)
        elif as_of > until or (not rule.inclusive and as_of == until):
            flagged = False
    out_key = ("short", rule.id, start, until, flagged)
    if cache is not None and (hit := cache.get(out_key)) is not None:
        return hit  # type: ignore[no-any-return]
    src = rule.sources[-1] if rule.sources else rule.source
    out = TooShortOut(
        id=rule.id,
        label=rule.label,
        provincial=rule.provincial,
        national=rule.national,
        inclusive=rule.inclusive,
        started_at=start,
        until=until,
        flagged=flagged,
        result=rule.result or "onsite_check",
        source=_cite(src) if src else "",
    )
    if cache is not None:
        cache[out_key] = out
    return out


def _pause_key(p: PauseOut) -> tuple[Any, ...]:
    return (p.start, p.end, p.reason, p.kind)


class EvaluationMemo:
    """What an application's evaluation computed that its next events cannot change (due
    instants; the outputs of pending and stopped monitors), kept between its evaluations:
    the workflow evaluates on every event, and most monitors do not move.

    Bound to the (policy, calendar, application) objects it was filled for: given others, it
    starts afresh, so a new calendar version can never be answered from the old one's memo.
    """

    __slots__ = ("_entries", "_owner")

    # Pauses and resumes make new keys; a long-lived application's memo stays bounded.
    MAX_ENTRIES = 512

    def __init__(self) -> None:
        self._owner: tuple[object, object, object] | None = None
        self._entries: dict[tuple[Any, ...], Any] = {}

    def entries_for(
        self, policy: object, calendar: object, application: object
    ) -> dict[tuple[Any, ...], Any]:
        owner = self._owner
        if (
            owner is None
            or owner[0] is not policy
            or owner[1] is not calendar
            or owner[2] is not application
            or len(self._entries) > self.MAX_ENTRIES
        ):
            self._owner = (policy, calendar, application)
            self._entries = {}
        return self._entries


def evaluate(
    policy: ResolvedPolicy,
    calendar: CalendarLike,
    application: Application,
    events: Sequence[Event] = (),
    as_of: datetime | None = None,
    memo: EvaluationMemo | None = None,
) -> Evaluation:
    """Every monitor of `application` under `policy`, judged at `as_of`.

    `as_of` defaults to the latest of the acceptance time and the events' times (never the
    wall clock: the engine is deterministic). Events after `as_of` are ignored. A `memo`
    kept by the caller between evaluations of the same application saves recomputing what
    its new events did not change; the answer is the same with or without it.
    """
    cache = memo.entries_for(policy, calendar, application) if memo is not None else None
    tz = ZoneInfo(policy.settings.timezone)
    if as_of is None:
        as_of = max([application.accepted_at, *(e.at for e in events)])
    elif as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone offset")
    facts = _Facts(policy, application, tz)
    selection = _select(policy, facts)
    timeline = _Timeline(policy, application, events, as_of)
    day_hours = policy.settings.day_hours
    work = _WorkClock(calendar)

    def clock_for(d: Duration | None) -> _Clock:
        return work if d is None or d.working else _WALL

    calendar_version = calendar.version
    region = str(getattr(calendar, "region", policy.settings.calendar_region))
    monitors: list[MonitorOut] = []
    flagged_short: list[str] = []

    for plan, too_short_rule in zip(selection.plans, selection.attached, strict=True):
        rule = plan.rule
        assert rule.code is not None and rule.start is not None and rule.stop is not None
        start = _resolve_spec(rule.start, timeline, selection.skipped, "first", None, tz)
        prov, nat = rule.provincial, rule.national
        too_short = (
            _too_short(
                too_short_rule,
                timeline,
                selection.skipped,
                clock_for,
                day_hours,
                tz,
                as_of,
                cache,
            )
            if too_short_rule is not None
            else None
        )
        if too_short is not None and too_short.flagged:
            flagged_short.append(rule.id)
        recipients = plan.recipients
        common: dict[str, Any] = {
            "id": rule.id,
            "code": rule.code,
            "label": rule.label,
            "provincial_limit": prov,
            "national_limit": nat,
            "result": rule.result,
            "recipients": recipients,
            "coordination": bool(rule.coordination),
            "too_short": too_short,
            "calendar_version": calendar_version,
            "source": plan.source,
            "sources": plan.sources,
            "flags": plan.flags,
            "notes": plan.notes,
        }
        short_key = (
            None
            if too_short is None
            else (too_short.started_at, too_short.until, too_short.flagged)
        )
        if start is None:
            # A pending monitor's output changes only with its too-short rule's.
            pending_key = ("pending", rule.id, short_key)
            hit = cache.get(pending_key) if cache is not None else None
            if hit is not None:
                monitors.append(hit)
                continue
            monitors.append(
                MonitorOut(
                    state="pending",
                    started_at=None,
                    stopped_at=None,
                    provincial_due_at=None,
                    national_due_at=None,
                    thresholds=list(plan.pending_thresholds),
                    level=None,
                    next_due_at=None,
                    elapsed=None,
                    pauses=[],
                    provisional=False,
                    **common,
                )
            )
            if cache is not None:
                cache[pending_key] = monitors[-1]
            continue
        stop = _resolve_spec(rule.stop, timeline, selection.skipped, "last", start, tz)
        pause_out = _pause_intervals(rule, timeline, selection.skipped, start)
        # A stopped monitor's output no longer depends on `as_of`: answer it from the memo.
        stopped_key = (
            ("stopped", rule.id, start, stop, short_key, *map(_pause_key, pause_out))
            if stop is not None and cache is not None
            else None
        )
        if stopped_key is not None:
            assert cache is not None
            hit = cache.get(stopped_key)
            if hit is not None:
                monitors.append(hit)
                continue
        intervals = (
            _merge_intervals(
                (max(p.start, start), p.end) for p in pause_out if stop is None or p.start < stop
            )
            if pause_out
            else []
        )
        end = stop if stop is not None else as_of
        clock = clock_for(prov or nat)
        check_times = rule.check_times

        def due(
            delta: timedelta,
            c: _Clock,
            start: datetime = start,
            check_times: list[str] | None = check_times,
            intervals: list[Interval] = intervals,
        ) -> datetime | None:
            at = _advance(c, start, delta, intervals)
            if at is not None and check_times:
                at = _snap(at, check_times, tz)
            return at

        # The due instants depend only on the start and the excluded intervals, not on
        # `as_of` or the stop: a memo answers them again without touching the calendar.
        dues_key = ("dues", rule.id, start, *intervals)
        dues = cache.get(dues_key) if cache is not None else None
        if dues is None:
            dues = (
                [due(delta, clock_for(amt)) for _, amt, delta in plan.targets],
                due(plan.prov_td, clock_for(prov)) if plan.prov_td is not None else None,
                due(plan.nat_td, clock_for(nat)) if plan.nat_td is not None else None,
            )
            if cache is not None:
                cache[dues_key] = dues
        target_dues, prov_due, nat_due = dues

        thresholds: list[Threshold] = []
        level: str | None = None
        next_due: datetime | None = None
        latest_instant = end
        for (lv, amt, _), at in zip(plan.targets, target_dues, strict=True):
            # A stage finished exactly on an instant did not pass it; a running clock has.
            reached = at is not None and (at < stop if stop is not None else at <= as_of)
            if reached:
                level = lv
            elif stop is None and at is not None and (next_due is None or at < next_due):
                next_due = at
            if at is not None and at > latest_instant:
                latest_instant = at
            thresholds.append(
                Threshold(
                    level=lv, due_at=at, after=amt, reached=reached, recipients=recipients[lv]
                )
            )
        breached = any(
            d is not None and (end > d if stop is not None else end >= d)
            for d in (prov_due, nat_due)
        )
        if stop is not None:
            state: State = "breached" if breached else "met"
        elif breached:
            state = "breached"
        elif any(b is None and a <= as_of for a, b in intervals):
            state = "paused"
        else:
            state = "running"
        counted = _counted(clock, start, end, intervals)
        provisional = calendar.provisional_between(start, latest_instant)
        monitors.append(
            MonitorOut(
                state=state,
                started_at=start,
                stopped_at=stop,
                provincial_due_at=prov_due,
                national_due_at=nat_due,
                thresholds=thresholds,
                level=level,
                next_due_at=next_due,
                elapsed=Elapsed(
                    amount=_as_amount(counted, plan.limit_unit, day_hours),
                    unit=plan.limit_unit,
                    seconds=counted.total_seconds(),
                ),
                pauses=pause_out,
                provisional=provisional,
                **common,
            )
        )
        if stopped_key is not None:
            assert cache is not None
            cache[stopped_key] = monitors[-1]

    # Too-short rows without a monitor of their own code are reported on their own.
    for t in selection.standalone:
        assert t.code is not None and t.stop is not None
        out = _too_short(t, timeline, selection.skipped, clock_for, day_hours, tz, as_of, cache)
        if out.flagged:
            flagged_short.append(t.id)
        stop = (
            _resolve_spec(t.stop, timeline, selection.skipped, "last", out.started_at, tz)
            if out.started_at is not None
            else None
        )
        st: State = "pending" if out.started_at is None else ("met" if stop else "running")
        src = t.sources[-1] if t.sources else t.source
        monitors.append(
            MonitorOut(
                id=t.id,
                code=t.code,
                label=t.label,
                state=st,
                started_at=out.started_at,
                stopped_at=stop,
                provincial_limit=None,
                national_limit=None,
                provincial_due_at=None,
                national_due_at=None,
                thresholds=[],
                level=None,
                next_due_at=None,
                elapsed=None,
                pauses=[],
                result=None,
                recipients={},
                coordination=False,
                too_short=out,
                calendar_version=calendar_version,
                provisional=bool(
                    out.started_at is not None
                    and out.until is not None
                    and calendar.provisional_between(out.started_at, out.until)
                ),
                source=_cite(src) if src else "",
                sources=[_cite(s) for s in (t.sources or [])],
                flags=list(t.flags or []),
                notes=list(t.notes or []),
            )
        )

    monitors.sort(key=lambda m: (_ORDER.get(m.code, len(_ORDER)), m.id))
    next_dues = [m.next_due_at for m in monitors if m.next_due_at is not None]
    return Evaluation(
        unit=policy.unit,
        policy_version=policy.version,
        calendar_region=region,
        calendar_version=calendar_version,
        as_of=as_of,
        accepted_on=facts.accepted_on,
        monitors=monitors,
        next_due_at=min(next_dues) if next_dues else None,
        provisional=any(m.provisional for m in monitors),
        too_short=flagged_short,
        skipped_stages=sorted(selection.skipped),
    )


def clocks_started(
    policy: ResolvedPolicy,
    application: Application,
    events: Sequence[Event],
    code: str,
    as_of: datetime,
) -> list[tuple[str, bool]]:
    """(monitor id, whether its clock has started by `as_of`) for every monitor `evaluate`
    reports for stage `code`, in its order; what `evaluate` says as state != "pending",
    without judging any deadline (the update validator asks this for every completion)."""
    tz = ZoneInfo(policy.settings.timezone)
    selection = _select(policy, _Facts(policy, application, tz))
    timeline = _Timeline(policy, application, events, as_of)
    skipped = selection.skipped
    timed: list[MonitorRule | TooShortRule] = [
        p.rule for p in selection.plans if p.rule.code == code
    ]
    timed += [t for t in selection.standalone if t.code == code]
    out: list[tuple[str, bool]] = []
    for rule in timed:
        assert rule.start is not None
        out.append(
            (rule.id, _resolve_spec(rule.start, timeline, skipped, "first", None, tz) is not None)
        )
    return out


def known_event(name: str, policy: ResolvedPolicy) -> bool:
    """Whether `name` is an event the policy understands (for validating input)."""
    if name in (PAUSE_EVENT, RESUME_EVENT):
        return True
    code, _, suffix = name.rpartition(".")
    code = policy.event_aliases.get(code, code)
    return suffix in ("started", "completed") and (
        code in STAGE_CODES or code in NOTICE_CODES or code in policy.codes
    )


class EffectiveRule(BaseModel):
    """A monitor rule as it applies to one application (for `python -m policies show`)."""

    id: str
    code: str
    label: str | None
    start: EventSpec
    stop: EventSpec
    pauses: list[str]
    provincial: Duration | None
    national: Duration | None
    blue_lead: Duration | None
    orange_lead: Duration | None
    levels: list[str]
    result: str | None
    recipients: str | None
    check_times: list[str]
    sources: list[str]
    flags: list[str]
    notes: list[str]


class EffectiveRules(BaseModel):
    monitors: list[EffectiveRule]
    too_short: list[TooShortRule]
    skipped_stages: list[str]
    business_types: list[str]


def effective_rules(policy: ResolvedPolicy, application: Application) -> EffectiveRules:
    """The monitor and too-short rules in force for `application`, variants applied."""
    tz = ZoneInfo(policy.settings.timezone)
    facts = _Facts(policy, application, tz)
    sel = _select(policy, facts)
    out: list[EffectiveRule] = []
    for plan in sel.plans:
        r = plan.rule
        assert r.code is not None and r.start is not None and r.stop is not None
        out.append(
            EffectiveRule(
                id=r.id,
                code=r.code,
                label=r.label,
                start=r.start,
                stop=r.stop,
                pauses=[f"{p.from_event} → {p.to_event} ({p.reason})" for p in r.pauses or []],
                provincial=r.provincial,
                national=r.national,
                blue_lead=plan.blue_lead if "blue" in plan.levels else None,
                orange_lead=plan.orange_lead if "orange" in plan.levels else None,
                levels=plan.levels,
                result=r.result,
                recipients=r.recipients,
                check_times=list(r.check_times or []),
                sources=plan.sources,
                flags=plan.flags,
                notes=plan.notes,
            )
        )
    return EffectiveRules(
        monitors=out,
        too_short=list(sel.too_short),
        skipped_stages=sorted(sel.skipped),
        business_types=sorted(facts.business_types),
    )
