"""An application's events as the engine reads them: by name, aliases applied, `accept.started`
implied at acceptance; and what starts, stops and pauses a rule's clock among them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, tzinfo

from policies.codes import NOTICE_CODES, PAUSE_EVENT, RESUME_EVENT, STAGE_CODES
from policies.engine.models import Event, PauseOut
from policies.profile import ApplicationProfile
from policies.schema import EventSpec, MonitorRule, ResolvedPolicy

#: A customer hold: its start, its end (None while it lasts) and its reason.
Hold = tuple[datetime, datetime | None, str]


class Timeline:
    """Events up to `as_of`, by name, with aliases applied and `accept.started` implied."""

    __slots__ = ("by_name", "pauses_raw")

    def __init__(
        self,
        policy: ResolvedPolicy,
        app: ApplicationProfile,
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

    def customer_pauses(self, rule_id: str, code: str) -> list[Hold]:
        """The holds (pause → resume) that apply to the rule `rule_id` of stage `code`."""
        out: list[Hold] = []
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


def stage_of(name: str) -> str:
    return name.rpartition(".")[0]


def resolve_spec(
    spec: EventSpec,
    timeline: Timeline,
    skipped: frozenset[str],
    default: str,
    not_before: datetime | None,
    tz: tzinfo,
) -> datetime | None:
    """The instant `spec` (a start or stop condition) names, or None while it has not happened.

    `default` is the occurrence taken of a single event when the spec names none.
    """
    if spec.event is not None:
        found = timeline.occurrence(spec.event, spec.occurrence or default, not_before)
    else:
        names = [n for n in spec.events if stage_of(n) not in skipped]
        if not names:
            return None
        if spec.latest_of is not None:
            found = _latest(timeline, names, spec.occurrence or "last", not_before)
        else:
            found = _earliest(timeline, names, spec.occurrence or "first", not_before)
    if found is not None and spec.truncate == "day":
        local = found.astimezone(tz)
        found = datetime.combine(local.date(), time(0), tzinfo=tz)
    return found


def _latest(
    timeline: Timeline, names: list[str], which: str, not_before: datetime | None
) -> datetime | None:
    """When the last of `names` happened; None until every one has."""
    times = [timeline.occurrence(n, which, not_before) for n in names]
    if any(t is None for t in times):
        return None
    return max(t for t in times if t is not None)


def _earliest(
    timeline: Timeline, names: list[str], which: str, not_before: datetime | None
) -> datetime | None:
    """When the first of `names` happened; None until one has."""
    present = [
        t for t in (timeline.occurrence(n, which, not_before) for n in names) if t is not None
    ]
    return min(present) if present else None


def pause_intervals(
    rule: MonitorRule,
    timeline: Timeline,
    skipped: frozenset[str],
    start: datetime,
) -> list[PauseOut]:
    """The policy's exclusions and the customer's holds that stop `rule`'s clock after `start`."""
    out: list[PauseOut] = []
    for spec in rule.pauses or []:
        if stage_of(spec.from_event) in skipped:
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


def known_event(name: str, policy: ResolvedPolicy) -> bool:
    """Whether `name` is an event the policy understands (for validating input)."""
    if name in (PAUSE_EVENT, RESUME_EVENT):
        return True
    code, _, suffix = name.rpartition(".")
    code = policy.event_aliases.get(code, code)
    return suffix in ("started", "completed") and (
        code in STAGE_CODES or code in NOTICE_CODES or code in policy.codes
    )
