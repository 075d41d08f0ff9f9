"""A time zone carried as data, so a calendar snapshot needs neither tzdata nor zoneinfo.

Two reasons. Temporal's workflow sandbox wraps zoneinfo.ZoneInfo in a proxy that datetime
refuses as a tzinfo. And a workflow must replay identically even after the host's tzdata is
upgraded, so the offsets a workflow computed with travel in its history with the snapshot.

The zone is a list of (UTC instant in epoch seconds, UTC offset in seconds, abbreviation)
transitions, taken from zoneinfo outside the sandbox over SPAN_YEARS.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

_EPOCH = datetime(1970, 1, 1)
SPAN_YEARS = (1900, 2200)
_SAMPLE_STEP = 7 * 86_400

Transition = tuple[int, int, str]


def is_aware(t: datetime) -> bool:
    """Whether `t` names an instant: it carries a zone that gives it an offset (a tzinfo whose
    utcoffset() is None leaves it as naive as no tzinfo at all)."""
    return t.tzinfo is not None and t.utcoffset() is not None


class DataZone(tzinfo):
    """A tzinfo defined by its transitions; behaves like ZoneInfo, including PEP 495 folds."""

    def __init__(self, key: str, transitions: Sequence[Transition]) -> None:
        if not transitions:
            raise ValueError(f"zone {key!r} needs at least one offset")
        self.key = key
        self.transitions: tuple[Transition, ...] = tuple(
            (int(u), int(o), str(a)) for u, o, a in transitions
        )
        starts = [_EPOCH + timedelta(seconds=u) for u, _, _ in self.transitions]
        self._utc_starts = starts
        self._offsets = [timedelta(seconds=o) for _, o, _ in self.transitions]
        self._names = [a for _, _, a in self.transitions]
        # Local wall time at which each period starts, for utcoffset() of wall times.
        self._local_starts = [s + o for s, o in zip(starts, self._offsets, strict=True)]
        last = len(starts) - 1
        previous = self._offsets[last - 1] if last else self._offsets[last]
        fold_window = max(previous - self._offsets[last], timedelta(0))
        # After these days (UTC / local) one offset holds and no fold is possible: the hot
        # paths compare ordinals, far cheaper than building a naive copy of the datetime.
        self._steady_utc_ord = (starts[last] + fold_window).toordinal()
        self._steady_local_ord = (self._local_starts[last] + fold_window).toordinal()
        self._steady_offset = self._offsets[last]

    def _index_utc(self, naive_utc: datetime) -> int:
        return max(bisect_right(self._utc_starts, naive_utc) - 1, 0)

    def _index_local(self, dt: datetime) -> int:
        """The period of a wall time, resolving folds and gaps as PEP 495 (and zoneinfo) do:
        fold=0 takes the offset in force before the transition, fold=1 the one after."""
        wall = dt.replace(tzinfo=None, fold=0)
        j = max(bisect_right(self._local_starts, wall) - 1, 0)
        if j > 0 and wall < self._utc_starts[j] + self._offsets[j - 1]:
            return j - 1 if dt.fold == 0 else j  # repeated wall time
        if j + 1 < len(self._utc_starts) and wall >= self._utc_starts[j + 1] + self._offsets[j]:
            return j if dt.fold == 0 else j + 1  # skipped wall time
        return j

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        if dt is None:
            return None
        if dt.toordinal() > self._steady_local_ord:
            return self._steady_offset
        return self._offsets[self._index_local(dt)]

    def dst(self, dt: datetime | None) -> timedelta | None:  # noqa: ARG002  (tzinfo's signature)
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        if dt is None:
            return None
        return self._names[self._index_local(dt)]

    def fromutc(self, dt: datetime) -> datetime:
        if dt.toordinal() > self._steady_utc_ord:
            return dt + self._steady_offset
        naive = dt.replace(tzinfo=None)
        i = self._index_utc(naive)
        local = dt + self._offsets[i]
        if i > 0 and naive < self._utc_starts[i] + (self._offsets[i - 1] - self._offsets[i]):
            # The wall time also existed under the previous offset: this is its second pass.
            return local.replace(fold=1)
        return local

    def __repr__(self) -> str:
        return f"DataZone({self.key!r})"

    def __str__(self) -> str:
        return self.key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataZone) and (self.key, self.transitions) == (
            other.key,
            other.transitions,
        )

    def __hash__(self) -> int:
        return hash((self.key, self.transitions))

    def __reduce__(self) -> tuple[type[DataZone], tuple[str, tuple[Transition, ...]]]:
        return DataZone, (self.key, self.transitions)


@lru_cache(maxsize=64)
def zone_transitions(key: str) -> tuple[Transition, ...]:
    """Extract a zone's transitions from zoneinfo (outside workflows only: it reads tzdata)."""
    from zoneinfo import ZoneInfo

    zi = ZoneInfo(key)

    def at(ts: int) -> tuple[int, str]:
        local = datetime.fromtimestamp(ts, UTC).astimezone(zi)
        off = local.utcoffset()
        assert off is not None
        return int(off.total_seconds()), local.tzname() or ""

    start = int((datetime(SPAN_YEARS[0], 1, 1) - _EPOCH).total_seconds())
    end = int((datetime(SPAN_YEARS[1], 1, 1) - _EPOCH).total_seconds())
    first_off, first_name = at(start)
    # The first period stands for everything before the span too.
    out: list[Transition] = [(int((datetime(1, 1, 2) - _EPOCH).total_seconds()), *at(start))]
    prev = (first_off, first_name)
    ts = start
    while ts < end:
        nxt = min(ts + _SAMPLE_STEP, end)
        cur = at(nxt)
        if cur != prev:
            lo, hi = ts, nxt  # prev holds at lo, cur at hi: find the first second of cur
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if at(mid) == prev:
                    lo = mid
                else:
                    hi = mid
            # Two changes inside one sample step are not in any real zone's history since 1900.
            out.append((hi, *cur))
            prev = cur
        ts = nxt
    return tuple(out)


@lru_cache(maxsize=64)
def data_zone(key: str) -> DataZone:
    return DataZone(key, zone_transitions(key))
