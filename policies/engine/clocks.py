"""Counting time: the business clock (a calendar's working time) and the wall clock, with the
intervals a monitor's clock stands still in (pauses) skipped.

`workday`/`workhour` limits run on the business clock, `day`/`hour`/`minute` on the wall clock
(DESIGN.md §3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta, tzinfo
from typing import Any, Protocol

from policies.engine.models import CalendarLike

#: An excluded stretch of time; an open one (not yet resumed) has no end.
Interval = tuple[datetime, datetime | None]

_ZERO = timedelta(0)


class Clock(Protocol):
    def add(self, t: datetime, delta: timedelta) -> datetime: ...

    def between(self, a: datetime, b: datetime) -> timedelta: ...


class WallClock:
    def add(self, t: datetime, delta: timedelta) -> datetime:
        return t + delta

    def between(self, a: datetime, b: datetime) -> timedelta:
        return b - a if b > a else _ZERO


class WorkClock:
    """The calendar's working time. Keeps its additions: one evaluation asks the same ones for
    several levels and monitors, and it lives only as long as that evaluation."""

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
            return _ZERO
        return self._cal.work_time_between(a, b)


WALL = WallClock()


def advance(
    clock: Clock, start: datetime, amount: timedelta, pauses: Sequence[Interval]
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


def counted(clock: Clock, start: datetime, end: datetime, pauses: Sequence[Interval]) -> timedelta:
    """The time counted between `start` and `end`, less the pauses."""
    total = clock.between(start, end)
    for a, b in pauses:
        lo = max(a, start)
        hi = end if b is None else min(b, end)
        if hi > lo:
            total -= clock.between(lo, hi)
    return max(total, _ZERO)


def merge_intervals(items: Iterable[Interval]) -> list[Interval]:
    """Overlapping or touching intervals joined, in order of their starts."""
    out: list[list[Any]] = []
    for a, b in sorted(items, key=lambda x: x[0]):
        if out and (out[-1][1] is None or a <= out[-1][1]):
            if out[-1][1] is not None and (b is None or b > out[-1][1]):
                out[-1][1] = b
            continue
        out.append([a, b])
    return [(a, b) for a, b in out]


def snap(t: datetime, check_times: list[str], tz: tzinfo) -> datetime:
    """The first of the daily check times (`HH:MM` in `tz`) at or after `t`."""
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


def as_amount(delta: timedelta, unit: str, day_hours: float) -> float:
    """`delta` in `unit` (a working day is `day_hours` of the business clock), to 4 places."""
    hours = delta.total_seconds() / 3600.0
    if unit == "workday":
        return round(hours / day_hours, 4)
    if unit == "day":
        return round(hours / 24.0, 4)
    if unit == "minute":
        return round(hours * 60.0, 4)
    return round(hours, 4)
