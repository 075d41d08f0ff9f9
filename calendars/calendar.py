"""Working-time arithmetic over a business calendar: pure Python, no I/O.

This module (with clock.py, snapshot.py and errors.py) is what a Temporal workflow imports, so it
must stay deterministic and free of numpy and file access.

Representation. Day d is identified by its proleptic ordinal o. The rank R(o) is the number of
working days with ordinal <= o, counted from a fixed origin; then
    working days in (a, b]          = R(b) - R(a)
    n-th working day after a        = the working day whose rank is R(a) + n.
Outside the window of published years R(o) is the weekday count f(o) (closed form) plus a
constant; inside it a per-day table gives the correction. The inverse uses the closed form
outside and a list of the window's working days inside. Every operation is O(1), whatever the
distance, with no loop over days.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from calendars.clock import Clock, ClockConfig, make_clock
from calendars.errors import UnpublishedYearError
from calendars.snapshot import CalendarSnapshot, NoticeRef
from calendars.zone import DataZone, Transition, data_zone, is_aware

DEFAULT_TZ = "Asia/Shanghai"
# Constructing a timedelta costs about as much as the rest of add_work_time; results mostly
# move by whole days, so those deltas are built once.
_DAY_DELTAS = tuple(timedelta(days=i) for i in range(1024))
_MIDNIGHT = time()


def weekdays_through(o: int) -> int:
    """Mondays-to-Fridays among ordinals 1..o (ordinal 1, 0001-01-01, is a Monday)."""
    q, r = divmod(o, 7)
    return 5 * q + (r if r < 5 else 5)


def _require_date(value: object, name: str) -> date:
    if isinstance(value, datetime):
        raise TypeError(f"{name} must be a date, not a datetime (use the *_work_time methods)")
    if not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date, got {type(value).__name__}")
    return value


def _require_aware(value: object, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a timezone-aware datetime, got {type(value).__name__}")
    if not is_aware(value):
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value


class Calendar:
    """A region's business calendar. Build it with get_calendar() or Calendar.from_snapshot()."""

    __slots__ = (
        "_a_total",
        "_adj",
        "_batch_cache",
        "_clock",
        "_clock_24h",
        "_contiguous",
        "_day_us",
        "_hi",
        "_holidays",
        "_k_hi",
        "_k_lo",
        "_lo",
        "_makeup",
        "_n_workdays",
        "_published",
        "_ranks",
        "_size",
        "_sources",
        "_work",
        "_workdays",
        "_zone",
        "region",
        "strict",
        "tz",
        "version",
    )

    def __init__(
        self,
        *,
        region: str,
        version: str,
        published_years: Iterable[int],
        holidays: Iterable[date],
        makeup_workdays: Iterable[date],
        tz: str = DEFAULT_TZ,
        clock: ClockConfig | str | Clock | None = None,
        strict: bool = False,
        sources: Iterable[NoticeRef] = (),
        tz_transitions: Iterable[Transition] | None = None,
    ) -> None:
        """Prefer get_calendar() or from_snapshot(). Without tz_transitions the zone is read
        from zoneinfo, which a workflow sandbox does not allow; snapshots carry them."""
        self.region = region
        self.version = version
        self.tz = tz
        self.strict = strict
        self._zone = (
            data_zone(tz) if tz_transitions is None else DataZone(tz, tuple(tz_transitions))
        )
        self._clock = make_clock(clock)
        self._clock_24h = self._clock.config.kind == "working_day"
        self._day_us = self._clock.day_us
        self._sources = tuple(sources)
        years = sorted(set(published_years))
        self._published = frozenset(years)
        self._holidays = tuple(sorted(set(holidays)))
        self._makeup = tuple(sorted(set(makeup_workdays)))
        for d in self._holidays:
            if d.weekday() >= 5:
                raise ValueError(f"holiday {d} is a weekend day; only weekday rest days are listed")
            if d.year not in self._published:
                raise ValueError(f"holiday {d} lies in a year without published data")
        for d in self._makeup:
            if d.weekday() < 5:
                raise ValueError(f"make-up working day {d} is not a Saturday or Sunday")
            if d.year not in self._published:
                raise ValueError(f"make-up working day {d} lies in a year without published data")
        if years:
            self._lo = date(years[0], 1, 1).toordinal()
            self._hi = date(years[-1], 12, 31).toordinal()
        else:
            # An empty window: every ordinal takes the closed-form branches.
            self._lo, self._hi = 1, 0
        self._contiguous = years == list(range(years[0], years[-1] + 1)) if years else True
        # Filled lazily by calendars.batch with numpy arrays; unused on the workflow path.
        self._batch_cache: object = None
        self._build_tables()

    def _build_tables(self) -> None:
        lo, hi = self._lo, self._hi
        size = hi - lo + 1
        work = bytearray(1 if (lo + i + 6) % 7 < 5 else 0 for i in range(size))
        for d in self._holidays:
            work[d.toordinal() - lo] = 0
        for d in self._makeup:
            work[d.toordinal() - lo] = 1
        adj: list[int] = [0] * size
        workdays: list[int] = []
        a = 0
        for i in range(size):
            is_weekday = (lo + i + 6) % 7 < 5
            if work[i]:
                workdays.append(lo + i)
                if not is_weekday:
                    a += 1
            elif is_weekday:
                a -= 1
            adj[i] = a
        self._work = bytes(work)
        self._adj = adj
        self._workdays = workdays
        self._n_workdays = len(workdays)
        self._a_total = a
        self._k_lo = weekdays_through(lo - 1)
        self._k_hi = weekdays_through(hi) + a
        self._size = size
        # _ranks[i] is R(lo - 1 + i) for i in 0..size: inside the window a rank (of a day or of
        # the day before it) is one list lookup, which the hot paths below inline.
        self._ranks = [self._k_lo] + [weekdays_through(lo + i) + adj[i] for i in range(size)]

    # -- construction from / to data ------------------------------------------------------------

    @classmethod
    def from_snapshot(cls, snap: CalendarSnapshot) -> Calendar:
        """Rebuild exactly the calendar the snapshot was taken from; no I/O.

        Calendars are immutable once built, so equal snapshots share one: every workflow of a
        region carries the same snapshot, and building its tables took milliseconds per
        workflow start (bench/workflow_bench.py)."""
        if cls is not Calendar:
            return cls._build_from_snapshot(snap)
        return _shared_from_snapshot(snap)

    @classmethod
    def _build_from_snapshot(cls, snap: CalendarSnapshot) -> Calendar:
        return cls(
            region=snap.region,
            version=snap.version,
            published_years=snap.published_years,
            holidays=snap.holidays,
            makeup_workdays=snap.makeup_workdays,
            tz=snap.tz,
            clock=snap.clock,
            strict=snap.strict,
            sources=snap.sources,
            tz_transitions=snap.tz_transitions,
        )

    def snapshot(self) -> CalendarSnapshot:
        return CalendarSnapshot(
            region=self.region,
            version=self.version,
            tz=self.tz,
            clock=self._clock.config,
            strict=self.strict,
            published_years=tuple(sorted(self._published)),
            holidays=self._holidays,
            makeup_workdays=self._makeup,
            sources=self._sources,
            tz_transitions=self._zone.transitions,
        )

    @property
    def zone(self) -> DataZone:
        """The calendar's time zone; every datetime result carries it."""
        return self._zone

    @property
    def published_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._published))

    @property
    def clock(self) -> ClockConfig:
        return self._clock.config

    @property
    def sources(self) -> tuple[NoticeRef, ...]:
        return self._sources

    def __repr__(self) -> str:
        years = sorted(self._published)
        span = f"{years[0]}-{years[-1]}" if years else "none"
        return (
            f"Calendar(region={self.region!r}, version={self.version!r}, published={span}, "
            f"tz={self.tz!r}, clock={self._clock.config.kind!r}, strict={self.strict})"
        )

    # -- ranks ------------------------------------------------------------------------------------

    def _rank(self, o: int) -> int:
        q, r = divmod(o, 7)
        f = 5 * q + (r if r < 5 else 5)
        if o < self._lo:
            return f
        if o > self._hi:
            return f + self._a_total
        return f + self._adj[o - self._lo]

    def _nth(self, k: int) -> int:
        if k <= self._k_lo:
            q, r = divmod(k - 1, 5)
            return 7 * q + r + 1
        if k > self._k_hi:
            q, r = divmod(k - self._a_total - 1, 5)
            return 7 * q + r + 1
        return self._workdays[k - self._k_lo - 1]

    def _is_work_ordinal(self, o: int) -> bool:
        if self._lo <= o <= self._hi:
            return self._work[o - self._lo] == 1
        return (o + 6) % 7 < 5

    def _check_published(self, o1: int, o2: int) -> None:
        if o1 > o2:
            o1, o2 = o2, o1
        if self._contiguous and self._lo <= o1 and o2 <= self._hi:
            return
        y1, y2 = date.fromordinal(o1).year, date.fromordinal(o2).year
        missing = [y for y in range(y1, y2 + 1) if y not in self._published]
        if missing:
            raise UnpublishedYearError(self.region, missing)

    # -- days -------------------------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        if d.__class__ is not date:
            _require_date(d, "d")
        o = d.toordinal()
        if self.strict:
            self._check_published(o, o)
        if self._lo <= o <= self._hi:
            return self._work[o - self._lo] == 1
        return (o + 6) % 7 < 5

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th working day strictly after d (n > 0) or before it (n < 0); d itself if n == 0.

        d may be a rest day: add_workdays(saturday, 1) is the next working day.
        """
        if d.__class__ is not date:
            _require_date(d, "d")
        o = d.toordinal()
        if n > 0:
            i = o - self._lo + 1  # index of R(o)
        elif n < 0:
            i = o - self._lo  # index of R(o - 1); the n-th before is rank R(o - 1) + n + 1
            n += 1
        else:
            if self.strict:
                self._check_published(o, o)
            return d
        k = self._ranks[i] + n if 0 <= i <= self._size else self._rank(o - 1 + (n > 0)) + n
        j = k - self._k_lo - 1
        if 0 <= j < self._n_workdays:
            res = self._workdays[j]
        else:
            q, rem = divmod((k - self._a_total if j >= 0 else k) - 1, 5)
            res = 7 * q + rem + 1
        if self.strict:
            self._check_published(o, res)
        return date.fromordinal(res)

    def workdays_between(self, a: date, b: date) -> int:
        """Working days in (a, b] when a <= b; when b < a, minus the working days in [b, a).

        Counting backwards mirrors counting forwards (the start excluded, the end included),
        which makes this the exact inverse of add_workdays in both directions:
        workdays_between(d, add_workdays(d, n)) == n for every d and n.
        """
        if a.__class__ is not date:
            _require_date(a, "a")
        if b.__class__ is not date:
            _require_date(b, "b")
        oa = a.toordinal()
        ob = b.toordinal()
        if self.strict:
            self._check_published(oa, ob)
        if ob < oa:
            oa -= 1
            ob -= 1
        ia = oa - self._lo + 1
        ib = ob - self._lo + 1
        size = self._size
        ranks = self._ranks
        if 0 <= ia <= size and 0 <= ib <= size:
            return ranks[ib] - ranks[ia]
        return self._rank(ob) - self._rank(oa)

    def is_provisional(self, d: date) -> bool:
        """True when d's year has no published data, so d follows the weekday rule only."""
        return d.year not in self._published

    def provisional_between(self, a: datetime, b: datetime) -> bool:
        """True when any local day from a to b (either order) lies in an unpublished year."""
        a = _require_aware(a, "a")
        b = _require_aware(b, "b")
        y1 = a.astimezone(self._zone).year
        y2 = b.astimezone(self._zone).year
        if y1 > y2:
            y1, y2 = y2, y1
        return any(y not in self._published for y in range(y1, y2 + 1))

    # -- working time -----------------------------------------------------------------------------

    def _position(self, t: datetime) -> tuple[int, int]:
        """(business microseconds since the origin, local ordinal) of an aware datetime."""
        lt = t.astimezone(self._zone)
        o = lt.toordinal()
        pos = self._rank(o - 1) * self._day_us
        if self._is_work_ordinal(o):
            tod = ((lt.hour * 60 + lt.minute) * 60 + lt.second) * 1_000_000 + lt.microsecond
            pos += tod if self._clock_24h else self._clock.worked(tod)
        return pos, o

    def add_work_time(self, t: datetime, delta: timedelta) -> datetime:
        """The instant at which `delta` of business time has run from t, in the calendar's zone.

        For delta > 0 this is the earliest such instant (a limit ending with a working day ends
        at its 24:00, not at the next working day's 00:00); for delta < 0 the latest one.
        work_time_between(t, add_work_time(t, delta)) == delta always holds.
        """
        if t.__class__ is not datetime or t.tzinfo is None:
            _require_aware(t, "t")
        if delta.__class__ is not timedelta:
            raise TypeError(f"delta must be a timedelta, got {type(delta).__name__}")
        zone = self._zone
        lt = t if t.tzinfo is zone else t.astimezone(zone)
        o = lt.toordinal()
        if (
            self._clock_24h
            and delta.days > 0
            and not delta.seconds
            and not delta.microseconds
            and not self.strict
        ):
            # Fast path for the commonest limit, "N 个工作日" on the 24 h clock: the same wall
            # time N working days on, or from a rest day (or 00:00) the end of the N-th working
            # day. Same result as the general path below, without microsecond arithmetic.
            i = o - self._lo
            if 0 <= i < self._size:
                before = self._ranks[i]
                working = self._work[i] == 1
            else:
                before = self._rank(o - 1)
                working = (o + 6) % 7 < 5
            n = delta.days
            midnight = lt.time() == _MIDNIGHT
            j = before + n - self._k_lo - (0 if working and not midnight else 1)
            res_o = (
                self._workdays[j] if 0 <= j < self._n_workdays else self._nth(j + self._k_lo + 1)
            )
            if working and not midnight:
                days = res_o - o
                return lt + (_DAY_DELTAS[days] if days < 1024 else timedelta(days))
            return datetime.combine(date.fromordinal(res_o + 1), _MIDNIGHT, zone)
        d_us = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
        tod = ((lt.hour * 60 + lt.minute) * 60 + lt.second) * 1_000_000 + lt.microsecond
        i = o - self._lo
        if 0 <= i < self._size:
            before = self._ranks[i]
            working = self._work[i] == 1
        else:
            before = self._rank(o - 1)
            working = (o + 6) % 7 < 5
        day_us = self._day_us
        if self._clock_24h:
            pos = before * day_us + (tod if working else 0)
        else:
            pos = before * day_us + (self._clock.worked(tod) if working else 0)
        if d_us == 0:
            if self.strict:
                self._check_published(o, o)
            return lt
        k, r = divmod(pos + d_us, day_us)
        earliest = d_us > 0
        if earliest and r == 0:
            k -= 1
            r = day_us
        j = k - self._k_lo
        res_o = self._workdays[j] if 0 <= j < self._n_workdays else self._nth(k + 1)
        if self.strict:
            self._check_published(o, res_o)
        new_tod = r if self._clock_24h else self._clock.time_at(r, earliest)
        # Wall-clock arithmetic on the aware local time: the same day length as the clock.
        days = res_o - o
        step = _DAY_DELTAS[days] if 0 <= days < 1024 else timedelta(days)
        if new_tod != tod:
            step += timedelta(0, 0, new_tod - tod)
        return lt + step

    def work_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time from a to b on this calendar's clock; negative when b < a."""
        if a.__class__ is not datetime or a.tzinfo is None:
            _require_aware(a, "a")
        if b.__class__ is not datetime or b.tzinfo is None:
            _require_aware(b, "b")
        pa, oa = self._position(a)
        pb, ob = self._position(b)
        if self.strict:
            self._check_published(oa, ob)
        return timedelta(microseconds=pb - pa)

    # -- views used by the CLI, reports and tests -----------------------------------------------

    def holidays(self) -> tuple[date, ...]:
        """Rest days falling on Monday-Friday, sorted."""
        return self._holidays

    def makeup_workdays(self) -> tuple[date, ...]:
        """Working days falling on Saturday/Sunday (调休), sorted."""
        return self._makeup

    def rank_table(self) -> tuple[int, int, int, list[int], list[int]]:
        """(lo, hi, a_total, adj, workdays): the internals the numpy batch form vectorises."""
        return self._lo, self._hi, self._a_total, self._adj, self._workdays

    def check_published_span(self, o1: int, o2: int) -> None:
        """Raise UnpublishedYearError if a strict calendar would refuse days o1..o2."""
        if self.strict:
            self._check_published(o1, o2)


@functools.lru_cache(maxsize=32)
def _shared_from_snapshot(snap: CalendarSnapshot) -> Calendar:
    return Calendar._build_from_snapshot(snap)
