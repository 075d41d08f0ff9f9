"""Evaluation: every monitor of an application under a policy, judged at an instant.

A monitor's level instant is when its *counted* time (business or wall-clock time since its
start, less pauses) reaches the level's amount (policies.engine.plans). Each step below is a
function of the evaluation's `_Run` (its inputs, worked out once).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from policies.codes import STAGE_ORDER
from policies.engine.clocks import (
    WALL,
    Clock,
    Interval,
    WorkClock,
    advance,
    as_amount,
    counted,
    merge_intervals,
    snap,
)
from policies.engine.matching import Facts
from policies.engine.memo import EvaluationMemo, MemoEntries
from policies.engine.models import (
    CalendarLike,
    Elapsed,
    Evaluation,
    Event,
    MonitorOut,
    PauseOut,
    State,
    Threshold,
    TooShortOut,
)
from policies.engine.plans import Plan
from policies.engine.selection import RuleIndex, Selection, index_for
from policies.engine.timeline import Timeline, pause_intervals, resolve_spec
from policies.profile import ApplicationProfile
from policies.schema import Duration, EventSpec, MonitorRule, ResolvedPolicy, TooShortRule

# Monitors are reported in the order their stages happen; codes the list lacks come last.
_RANK: dict[str, int] = {code: i for i, code in enumerate(STAGE_ORDER)}

#: The due instants of a started monitor: per target level, then the provincial and national.
Dues = tuple[list[datetime | None], datetime | None, datetime | None]


class _Run:
    """One evaluation's inputs, worked out once and read by each step."""

    __slots__ = (
        "accepted_on",
        "as_of",
        "cache",
        "calendar",
        "calendar_version",
        "day_hours",
        "selection",
        "skipped",
        "timeline",
        "tz",
        "work",
    )

    def __init__(
        self,
        policy: ResolvedPolicy,
        calendar: CalendarLike,
        application: ApplicationProfile,
        events: Sequence[Event],
        as_of: datetime,
        cache: MemoEntries | None,
        index: RuleIndex,
    ) -> None:
        self.tz = ZoneInfo(policy.settings.timezone)
        facts = Facts(policy, application, self.tz)
        self.accepted_on = facts.accepted_on
        self.selection: Selection = index.select(facts)
        self.skipped = self.selection.skipped
        self.timeline = Timeline(policy, application, events, as_of)
        self.as_of = as_of
        self.cache = cache
        self.calendar = calendar
        self.calendar_version = calendar.version
        self.day_hours = policy.settings.day_hours
        self.work = WorkClock(calendar)

    def clock(self, limit: Duration | None) -> Clock:
        """The clock `limit` counts on (the business clock when there is none)."""
        return self.work if limit is None or limit.working else WALL

    def resolve(
        self, spec: EventSpec, default: str, not_before: datetime | None
    ) -> datetime | None:
        """When `spec` (a start or stop condition) happened by `as_of`, if it has."""
        return resolve_spec(spec, self.timeline, self.skipped, default, not_before, self.tz)


def evaluate(
    policy: ResolvedPolicy,
    calendar: CalendarLike,
    application: ApplicationProfile,
    events: Sequence[Event] = (),
    as_of: datetime | None = None,
    memo: EvaluationMemo | None = None,
    index: RuleIndex | None = None,
) -> Evaluation:
    """Every monitor of `application` under `policy`, judged at `as_of`.

    `as_of` defaults to the latest of the acceptance time and the events' times (never the
    wall clock: the engine is deterministic). Events after `as_of` are ignored. A `memo`
    kept by the caller between evaluations of the same application saves recomputing what
    its new events did not change, and an `index` of the policy kept by the caller saves
    selecting its rules again; the answer is the same with or without either.
    """
    cache = memo.entries_for(policy, calendar, application) if memo is not None else None
    if as_of is None:
        as_of = max([application.accepted_at, *(e.at for e in events)])
    elif as_of.tzinfo is None:
        raise ValueError("as_of must carry a time zone offset")
    run = _Run(policy, calendar, application, events, as_of, cache, index_for(policy, index))
    monitors: list[MonitorOut] = []
    flagged: list[str] = []
    for plan, short_rule in zip(run.selection.plans, run.selection.attached, strict=True):
        short = _too_short(run, short_rule) if short_rule is not None else None
        if short is not None and short.flagged:
            flagged.append(plan.rule.id)
        monitors.append(_monitor(run, plan, short))
    # Too-short rows without a monitor of their own code are reported on their own.
    for rule in run.selection.standalone:
        short = _too_short(run, rule)
        if short.flagged:
            flagged.append(rule.id)
        monitors.append(_standalone_monitor(run, rule, short))
    return _evaluation(policy, run, monitors, flagged)


def clocks_started(
    policy: ResolvedPolicy,
    application: ApplicationProfile,
    events: Sequence[Event],
    code: str,
    as_of: datetime,
    index: RuleIndex | None = None,
) -> list[tuple[str, bool]]:
    """(monitor id, whether its clock has started by `as_of`) for every monitor `evaluate`
    reports for stage `code`, in its order; what `evaluate` says as state != "pending",
    without judging any deadline (the update validator asks this for every completion)."""
    tz = ZoneInfo(policy.settings.timezone)
    selection = index_for(policy, index).select(Facts(policy, application, tz))
    timeline = Timeline(policy, application, events, as_of)
    timed: list[MonitorRule | TooShortRule] = [
        p.rule for p in selection.plans if p.rule.code == code
    ]
    timed += [t for t in selection.standalone if t.code == code]
    out: list[tuple[str, bool]] = []
    for rule in timed:
        assert rule.start is not None
        started = resolve_spec(rule.start, timeline, selection.skipped, "first", None, tz)
        out.append((rule.id, started is not None))
    return out


# ---------------------------------------------------------------------------- monitors


def _monitor(run: _Run, plan: Plan, short: TooShortOut | None) -> MonitorOut:
    """A monitor rule's output: pending until its start condition holds, else judged."""
    rule = plan.rule
    assert rule.start is not None and rule.stop is not None
    start = resolve_spec(rule.start, run.timeline, run.skipped, "first", None, run.tz)
    short_key = None if short is None else (short.started_at, short.until, short.flagged)
    if start is None:
        return _pending_monitor(run, plan, short, short_key)
    stop = resolve_spec(rule.stop, run.timeline, run.skipped, "last", start, run.tz)
    pauses = pause_intervals(rule, run.timeline, run.skipped, start)
    cache = run.cache
    # A stopped monitor's output no longer depends on `as_of`: answer it from the memo.
    stopped_key = (
        ("stopped", rule.id, start, stop, short_key, *map(_pause_key, pauses))
        if stop is not None and cache is not None
        else None
    )
    if stopped_key is not None and cache is not None:
        hit: MonitorOut | None = cache.get(stopped_key)
        if hit is not None:
            return hit
    out = _judged_monitor(run, plan, short, (start, stop), pauses)
    if stopped_key is not None and cache is not None:
        cache[stopped_key] = out
    return out


def _pending_monitor(
    run: _Run, plan: Plan, short: TooShortOut | None, short_key: tuple[Any, ...] | None
) -> MonitorOut:
    # A pending monitor's output changes only with its too-short rule's.
    key = ("pending", plan.rule.id, short_key)
    cache = run.cache
    hit: MonitorOut | None = cache.get(key) if cache is not None else None
    if hit is not None:
        return hit
    out = MonitorOut(
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
        too_short=short,
        calendar_version=run.calendar_version,
        **plan.out_fields,
    )
    if cache is not None:
        cache[key] = out
    return out


def _judged_monitor(
    run: _Run,
    plan: Plan,
    short: TooShortOut | None,
    span: tuple[datetime, datetime | None],
    pauses: list[PauseOut],
) -> MonitorOut:
    """A started monitor judged at `as_of`: its due instants, levels reached, state, elapsed."""
    start, stop = span
    rule = plan.rule
    intervals = _excluded(pauses, start, stop)
    end = stop if stop is not None else run.as_of
    target_dues, prov_due, nat_due = _dues(run, plan, start, intervals)
    thresholds, level, next_due, latest = _thresholds(run, plan, target_dues, stop, end)
    spent = counted(run.clock(rule.provincial or rule.national), start, end, intervals)
    return MonitorOut(
        state=_state(run.as_of, stop, end, (prov_due, nat_due), intervals),
        started_at=start,
        stopped_at=stop,
        provincial_due_at=prov_due,
        national_due_at=nat_due,
        thresholds=thresholds,
        level=level,
        next_due_at=next_due,
        elapsed=Elapsed(
            amount=as_amount(spent, plan.limit_unit, run.day_hours),
            unit=plan.limit_unit,
            seconds=spent.total_seconds(),
        ),
        pauses=pauses,
        provisional=run.calendar.provisional_between(start, latest),
        too_short=short,
        calendar_version=run.calendar_version,
        **plan.out_fields,
    )


def _excluded(pauses: list[PauseOut], start: datetime, stop: datetime | None) -> list[Interval]:
    """The stretches the clock stands still in, from its start and before its stop, merged."""
    if not pauses:
        return []
    return merge_intervals(
        (max(p.start, start), p.end) for p in pauses if stop is None or p.start < stop
    )


def _dues(run: _Run, plan: Plan, start: datetime, intervals: list[Interval]) -> Dues:
    # The due instants depend only on the start and the excluded intervals, not on `as_of` or
    # the stop: a memo answers them again without touching the calendar.
    key = ("dues", plan.rule.id, start, *intervals)
    cache = run.cache
    dues: Dues | None = cache.get(key) if cache is not None else None
    if dues is not None:
        return dues
    rule = plan.rule
    check_times = rule.check_times
    work = run.work

    def due(delta: timedelta, limit: Duration | None) -> datetime | None:
        clock = work if limit is None or limit.working else WALL
        at = advance(clock, start, delta, intervals)
        if at is not None and check_times:
            at = snap(at, check_times, run.tz)
        return at

    dues = (
        [due(delta, amount) for _, amount, delta in plan.targets],
        due(plan.prov_td, rule.provincial) if plan.prov_td is not None else None,
        due(plan.nat_td, rule.national) if plan.nat_td is not None else None,
    )
    if cache is not None:
        cache[key] = dues
    return dues


def _thresholds(
    run: _Run,
    plan: Plan,
    target_dues: list[datetime | None],
    stop: datetime | None,
    end: datetime,
) -> tuple[list[Threshold], str | None, datetime | None, datetime]:
    """Each level's threshold; the highest level reached, the next instant due and the latest
    instant the monitor's output depends on."""
    thresholds: list[Threshold] = []
    level: str | None = None
    next_due: datetime | None = None
    latest = end
    for (lv, amount, _), at in zip(plan.targets, target_dues, strict=True):
        # A stage finished exactly on an instant did not pass it; a running clock has.
        reached = at is not None and (at < stop if stop is not None else at <= run.as_of)
        if reached:
            level = lv
        elif stop is None and at is not None and (next_due is None or at < next_due):
            next_due = at
        if at is not None and at > latest:
            latest = at
        thresholds.append(
            Threshold(
                level=lv, due_at=at, after=amount, reached=reached, recipients=plan.recipients[lv]
            )
        )
    return thresholds, level, next_due, latest


def _state(
    as_of: datetime,
    stop: datetime | None,
    end: datetime,
    limits_due: tuple[datetime | None, datetime | None],
    intervals: list[Interval],
) -> State:
    breached = any(
        d is not None and (end > d if stop is not None else end >= d) for d in limits_due
    )
    if stop is not None:
        return "breached" if breached else "met"
    if breached:
        return "breached"
    if any(b is None and a <= as_of for a, b in intervals):
        return "paused"
    return "running"


def _pause_key(p: PauseOut) -> tuple[Any, ...]:
    return (p.start, p.end, p.reason, p.kind)


# ---------------------------------------------------------------------------- too short


def _too_short(run: _Run, rule: TooShortRule) -> TooShortOut:
    """Whether the rule's stage finished within its bound (flagged), and the bound's instant."""
    assert rule.start is not None and rule.stop is not None
    start = run.resolve(rule.start, "first", None)
    bound = rule.provincial or rule.national
    assert bound is not None and rule.inclusive is not None
    until: datetime | None = None
    flagged: bool | None = None
    if start is not None:
        until = _until(run, rule.id, start, bound)
        stop = run.resolve(rule.stop, "last", start)
        if stop is not None:
            flagged = stop < until or (rule.inclusive and stop == until)
        elif run.as_of > until or (not rule.inclusive and run.as_of == until):
            flagged = False
    key = ("short", rule.id, start, until, flagged)
    cache = run.cache
    hit: TooShortOut | None = cache.get(key) if cache is not None else None
    if hit is not None:
        return hit
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
        source=run.selection.citations[rule.id][0],
    )
    if cache is not None:
        cache[key] = out
    return out


def _until(run: _Run, rule_id: str, start: datetime, bound: Duration) -> datetime:
    key = ("until", rule_id, start)
    cache = run.cache
    until: datetime | None = cache.get(key) if cache is not None else None
    if until is None:
        until = run.clock(bound).add(start, bound.to_timedelta(run.day_hours))
        if cache is not None:
            cache[key] = until
    return until


def _standalone_monitor(run: _Run, rule: TooShortRule, short: TooShortOut) -> MonitorOut:
    """A too-short rule without a monitor of its code, reported as a monitor with no limits."""
    assert rule.code is not None and rule.stop is not None
    started = short.started_at
    stop = run.resolve(rule.stop, "last", started) if started is not None else None
    state: State = "pending" if started is None else ("met" if stop else "running")
    source, sources = run.selection.citations[rule.id]
    provisional = bool(
        started is not None
        and short.until is not None
        and run.calendar.provisional_between(started, short.until)
    )
    return MonitorOut(
        id=rule.id,
        code=rule.code,
        label=rule.label,
        state=state,
        started_at=started,
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
        too_short=short,
        calendar_version=run.calendar_version,
        provisional=provisional,
        source=source,
        sources=list(sources),
        flags=list(rule.flags or []),
        notes=list(rule.notes or []),
    )


# ---------------------------------------------------------------------------- the answer


def _evaluation(
    policy: ResolvedPolicy, run: _Run, monitors: list[MonitorOut], flagged: list[str]
) -> Evaluation:
    monitors.sort(key=lambda m: (_RANK.get(m.code, len(_RANK)), m.id))
    next_dues = [m.next_due_at for m in monitors if m.next_due_at is not None]
    return Evaluation(
        unit=policy.unit,
        policy_version=policy.version,
        calendar_region=str(getattr(run.calendar, "region", policy.settings.calendar_region)),
        calendar_version=run.calendar_version,
        as_of=run.as_of,
        accepted_on=run.accepted_on,
        monitors=monitors,
        next_due_at=min(next_dues) if next_dues else None,
        provisional=any(m.provisional for m in monitors),
        too_short=flagged,
        skipped_stages=sorted(run.selection.skipped),
    )
