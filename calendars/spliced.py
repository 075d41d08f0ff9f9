"""A calendar whose data changed while deadlines were running.

When a year is published or amended, a running application's pending deadlines are recomputed
without rewriting the past (DESIGN.md §3): business time that elapsed before the change stays
counted on the calendar then in force; only the remainder counts on the new one. A
`SplicedCalendar` holds the calendar versions with the instants from which each was in force and
answers the working-time questions across them, so the SLA engine needs no special case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from calendars.calendar import Calendar
from calendars.zone import is_aware

_ZERO = timedelta(0)


class SplicedCalendar:
    """Calendar segments: `segments[0]` applies up to `segments[1]`'s start, and so on.

    The first segment's start is ignored (it applies from the beginning of time). Instants at or
    after a segment's start count on that segment's calendar.
    """

    def __init__(self, segments: Sequence[tuple[datetime, Calendar]]) -> None:
        if not segments:
            raise ValueError("a spliced calendar needs at least one calendar")
        starts = [s for s, _ in segments[1:]]
        for s in starts:
            if not is_aware(s):
                raise ValueError("segment starts must be timezone-aware")
        if any(b <= a for a, b in pairwise(starts)):
            raise ValueError("segment starts must increase")
        self._cals = [c for _, c in segments]
        self._starts = starts
        latest = self._cals[-1]
        self.region = latest.region
        self.tz = latest.tz
        self._zone = ZoneInfo(latest.tz)
        self.strict = latest.strict
        #: Every version in force at some point, oldest first: a deadline's explanation cites them.
        self.versions = tuple(dict.fromkeys(c.version for c in self._cals))
        self.version = latest.version

    @property
    def latest(self) -> Calendar:
        return self._cals[-1]

    def _index(self, t: datetime) -> int:
        i = 0
        for s in self._starts:
            if t >= s:
                i += 1
            else:
                break
        return i

    def _bounds(self, i: int) -> tuple[datetime | None, datetime | None]:
        lo = self._starts[i - 1] if i > 0 else None
        hi = self._starts[i] if i < len(self._starts) else None
        return lo, hi

    def _for_day(self, d: date) -> Calendar:
        return self._cals[self._index(datetime.combine(d, time(), self._zone))]

    # Date questions are answered by the calendar in force at the start of that day.
    def is_workday(self, d: date) -> bool:
        return self._for_day(d).is_workday(d)

    def add_workdays(self, d: date, n: int) -> date:
        return self.latest.add_workdays(d, n)

    def workdays_between(self, a: date, b: date) -> int:
        return self.latest.workdays_between(a, b)

    def is_provisional(self, d: date) -> bool:
        return self._for_day(d).is_provisional(d)

    def provisional_between(self, a: datetime, b: datetime) -> bool:
        if b < a:
            a, b = b, a
        if a == b:
            return self._cals[self._index(a)].provisional_between(a, b)
        # Segments are half-open, [start, next start): the switch instant belongs to the new one.
        for i, cal in enumerate(self._cals):
            lo, hi = self._bounds(i)
            x = a if lo is None else max(a, lo)
            y = b if hi is None else min(b, hi)
            if x < y and cal.provisional_between(x, y):
                return True
        return False

    def work_time_between(self, a: datetime, b: datetime) -> timedelta:
        if b < a:
            return -self.work_time_between(b, a)
        total = _ZERO
        for i, cal in enumerate(self._cals):
            lo, hi = self._bounds(i)
            x = a if lo is None else max(a, lo)
            y = b if hi is None else min(b, hi)
            if x < y:
                total += cal.work_time_between(x, y)
        return total

    def add_work_time(self, t: datetime, delta: timedelta) -> datetime:
        if not is_aware(t):
            raise ValueError("t must be timezone-aware")
        i = self._index(t)
        if delta >= _ZERO:
            while True:
                cal = self._cals[i]
                _, hi = self._bounds(i)
                end = cal.add_work_time(t, delta)
                if hi is None or end <= hi:
                    return end
                delta -= cal.work_time_between(t, hi)
                t, i = hi, i + 1
        while True:
            cal = self._cals[i]
            lo, _ = self._bounds(i)
            end = cal.add_work_time(t, delta)
            if lo is None or end >= lo:
                return end
            delta += cal.work_time_between(lo, t)
            # Just before the switch belongs to the previous segment.
            t, i = lo, i - 1
