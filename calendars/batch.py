"""Vectorised forms of the day arithmetic over numpy arrays, for reports over many applications.

Not imported by the calendars package itself: workflow code never needs numpy. Results are
identical to the scalar methods element by element (the tests check it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from calendars.calendar import Calendar

# date(1970, 1, 1).toordinal(): converts numpy's day numbers to proleptic ordinals.
_EPOCH_ORDINAL = 719_163

DateArray = npt.NDArray[np.datetime64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class _Tables:
    lo: int
    size: int
    a_total: int
    k_lo: int
    k_hi: int
    adj_ext: IntArray  # [0, adj..., a_total]: index 0 before the window, size + 1 after it
    workdays: IntArray
    work_ext: npt.NDArray[np.bool_]


def _tables(cal: Calendar) -> _Tables:
    cached = cal._batch_cache
    if isinstance(cached, _Tables):
        return cached
    lo, hi, a_total, adj, workdays = cal.rank_table()
    size = hi - lo + 1
    q, r = divmod(lo - 1, 7)
    k_lo = 5 * q + min(r, 5)
    q, r = divmod(hi, 7)
    k_hi = 5 * q + min(r, 5) + a_total
    work = np.zeros(max(size, 0), dtype=bool)
    if size > 0 and workdays:
        work[np.asarray(workdays, dtype=np.int64) - lo] = True
    tables = _Tables(
        lo=lo,
        size=max(size, 0),
        a_total=a_total,
        k_lo=k_lo,
        k_hi=k_hi,
        adj_ext=np.asarray([0, *adj, a_total], dtype=np.int64),
        workdays=np.asarray(workdays or [0], dtype=np.int64),
        work_ext=np.concatenate(([False], work, [False])),
    )
    cal._batch_cache = tables
    return tables


def to_ordinals(dates: Any) -> IntArray:
    """datetime64 array (any unit coarser or equal to days) or a sequence of dates -> ordinals."""
    arr = np.asarray(dates)
    if arr.dtype == object:
        arr = arr.astype("datetime64[D]")
    return arr.astype("datetime64[D]").astype(np.int64) + _EPOCH_ORDINAL


def from_ordinals(ordinals: IntArray) -> DateArray:
    return (ordinals - _EPOCH_ORDINAL).astype("datetime64[D]")


def _rank(t: _Tables, o: IntArray) -> IntArray:
    q, r = np.divmod(o, 7)
    f = 5 * q + np.minimum(r, 5)
    j = np.clip(o - t.lo + 1, 0, t.size + 1)
    return f + t.adj_ext[j]


def _nth(t: _Tables, k: IntArray) -> IntArray:
    outside = (k <= t.k_lo) | (k > t.k_hi)
    kk = np.where(k > t.k_hi, k - t.a_total, k)
    q, r = np.divmod(kk - 1, 5)
    closed = 7 * q + r + 1
    inside = t.workdays[np.clip(k - t.k_lo - 1, 0, len(t.workdays) - 1)]
    return np.where(outside, closed, inside)


def _check_strict(cal: Calendar, a: IntArray, b: IntArray) -> None:
    if cal.strict and a.size:
        lo = np.minimum(a, b)
        hi = np.maximum(a, b)
        i, j = int(np.argmin(lo)), int(np.argmax(hi))
        # Conservative: the whole batch is refused if the span from its earliest to its latest
        # day touches an unpublished year, even when no single element's span does.
        cal.check_published_span(int(lo[i]), int(hi[j]))


def is_workday(cal: Calendar, dates: Any) -> npt.NDArray[np.bool_]:
    t = _tables(cal)
    o = to_ordinals(dates)
    _check_strict(cal, o, o)
    idx = o - t.lo + 1
    in_window = (idx >= 1) & (idx <= t.size)
    weekday = (o + 6) % 7 < 5
    return np.where(in_window, t.work_ext[np.clip(idx, 0, t.size + 1)], weekday)


def add_workdays(cal: Calendar, dates: Any, n: Any) -> DateArray:
    """Element-wise Calendar.add_workdays; n is an int or an array broadcast against dates."""
    t = _tables(cal)
    o = to_ordinals(dates)
    steps = np.asarray(n, dtype=np.int64)
    k = np.where(steps > 0, _rank(t, o) + steps, _rank(t, o - 1) + steps + 1)
    res = np.where(steps == 0, o, _nth(t, k))
    _check_strict(cal, o, res)
    return from_ordinals(res)


def workdays_between(cal: Calendar, a: Any, b: Any) -> IntArray:
    """Element-wise Calendar.workdays_between."""
    t = _tables(cal)
    oa = to_ordinals(a)
    ob = to_ordinals(b)
    _check_strict(cal, oa, ob)
    forward = ob >= oa
    return np.where(
        forward,
        _rank(t, ob) - _rank(t, oa),
        _rank(t, ob - 1) - _rank(t, oa - 1),
    )


def as_dates(values: DateArray) -> list[date]:
    """A datetime64[D] array as a list of datetime.date (for display)."""
    return [date.fromordinal(int(o)) for o in to_ordinals(values)]


# -- working time over instants -------------------------------------------------------------------

_DAY_S = 86_400


def local_seconds(cal: Calendar, epoch_s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """UTC epoch seconds -> local wall-clock seconds since 1970-01-01 00:00 in cal's zone."""
    transitions = cal.zone.transitions
    starts = np.asarray([u for u, _, _ in transitions], dtype=np.float64)
    offsets = np.asarray([o for _, o, _ in transitions], dtype=np.float64)
    i = np.clip(np.searchsorted(starts, epoch_s, side="right") - 1, 0, len(starts) - 1)
    return epoch_s + offsets[i]


def day_seconds(cal: Calendar) -> float:
    """Business seconds in one working day on the calendar's clock (24 h on the working-day
    clock, fewer on an office-hours one)."""
    return float(cal._clock.day_us) / 1_000_000


def work_positions(cal: Calendar, epoch_s: Any) -> npt.NDArray[np.float64]:
    """Business seconds from the calendar's origin to each instant (UTC epoch seconds), so that
    the working time between two instants is the difference of their positions: element-wise
    what Calendar.work_time_between counts, for many instants at once."""
    t = _tables(cal)
    local = local_seconds(cal, np.asarray(epoch_s, dtype=np.float64))
    days = np.floor(local / _DAY_S)
    o = days.astype(np.int64) + _EPOCH_ORDINAL
    _check_strict(cal, o, o)
    tod = local - days * _DAY_S
    idx = o - t.lo + 1
    in_window = (idx >= 1) & (idx <= t.size)
    working = np.where(in_window, t.work_ext[np.clip(idx, 0, t.size + 1)], (o + 6) % 7 < 5)
    clock = cal._clock
    day_s = day_seconds(cal)
    if cal.clock.kind == "working_day":
        worked = tod
    else:
        # Office hours: a few periods per day, counted per instant (the clock's own rule).
        count = np.frompyfunc(lambda s: clock.worked(round(s * 1_000_000)) / 1_000_000, 1, 1)
        worked = count(tod).astype(np.float64)
    return _rank(t, o - 1).astype(np.float64) * day_s + np.where(working, worked, 0.0)


def work_seconds_between(cal: Calendar, a: Any, b: Any) -> npt.NDArray[np.float64]:
    """Element-wise Calendar.work_time_between in seconds, for instants given as UTC epoch
    seconds; negative where b < a."""
    return work_positions(cal, b) - work_positions(cal, a)
