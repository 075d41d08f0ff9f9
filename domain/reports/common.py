"""What every report shares: where a unit's policy and calendar come from, periods, summary
statistics and shares. Pure: the caller hands in the rows and a `Policies`."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from calendars.batch import day_seconds, local_seconds, work_seconds_between
from calendars.calendar import Calendar
from policies.schema import ResolvedPolicy

Period = Literal["month", "quarter", "year", "total"]
Floats = npt.NDArray[np.float64]
T = TypeVar("T")
K = TypeVar("K")

DAY_S = 86_400.0


class Policies(Protocol):
    """The policy and the calendar each unit's applications are judged by."""

    def policy(self, unit: str) -> ResolvedPolicy: ...

    def calendar(self, unit: str) -> Calendar: ...


class Stats(BaseModel):
    """Average, median and 90th percentile (linear between the nearest ranks) of a measure."""

    n: int
    mean: float | None = None
    median: float | None = None
    p90: float | None = None


class Share(BaseModel):
    """How many of the applications judged against a limit kept it."""

    judged: int
    within: int
    share: float | None = Field(default=None, description="within / judged, 0..1")


def stats(values: Floats) -> Stats:
    if values.size == 0:
        return Stats(n=0)
    mean, median, p90 = (
        float(np.mean(values)),
        float(np.median(values)),
        float(np.percentile(values, 90)),
    )
    return Stats(n=int(values.size), mean=_r(mean), median=_r(median), p90=_r(p90))


def _r(x: float) -> float:
    # Days to the hundredth of a second's precision is noise: four decimals read cleanly.
    return round(x, 4)


def period_codes(cal: Calendar, epoch_s: Floats, period: Period) -> npt.NDArray[np.int64]:
    """The period of each instant as a number (months since 1970, quarters, years; 0 for
    the total), by its local date in the calendar's zone."""
    if period == "total":
        return np.zeros(epoch_s.size, dtype=np.int64)
    days = np.floor(local_seconds(cal, epoch_s) / DAY_S).astype("datetime64[D]")
    months = days.astype("datetime64[M]").astype(np.int64)
    if period == "year":
        return months // 12 + 1970
    return months // 3 if period == "quarter" else months


def period_label(code: int, period: Period) -> str:
    """`2026-03`, `2026-Q1`, `2026` or `all`."""
    if period == "total":
        return "all"
    if period == "year":
        return str(code)
    if period == "quarter":
        return f"{code // 4 + 1970}-Q{code % 4 + 1}"
    return f"{code // 12 + 1970}-{code % 12 + 1:02d}"


def period_keys(cal: Calendar, epoch_s: Floats, period: Period) -> list[str]:
    labels = {
        c: period_label(c, period) for c in np.unique(period_codes(cal, epoch_s, period)).tolist()
    }
    return [labels[c] for c in period_codes(cal, epoch_s, period).tolist()]


def factorize(values: Sequence[Hashable]) -> tuple[npt.NDArray[np.int64], list[Hashable]]:
    """Each value's position among the distinct values (in order of appearance), and those."""
    seen: dict[Hashable, int] = {}
    codes = np.fromiter((seen.setdefault(v, len(seen)) for v in values), np.int64, len(values))
    return codes, list(seen)


def groups(
    *codes: npt.NDArray[np.int64],
) -> Iterator[tuple[tuple[int, ...], npt.NDArray[np.int64]]]:
    """The rows of each distinct combination of codes: (its codes, the rows' positions)."""
    if not codes or codes[0].size == 0:
        return
    sizes = [int(c.max()) + 1 for c in codes]
    key = np.zeros(codes[0].size, dtype=np.int64)
    for c, size in zip(codes, sizes, strict=True):
        key = key * size + c
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    cuts = np.flatnonzero(np.diff(ordered)) + 1
    for part in np.split(order, cuts):
        k = int(key[part[0]])
        parts = []
        for size in reversed(sizes):
            k, r = divmod(k, size)
            parts.append(r)
        yield tuple(reversed(parts)), part


def per_calendar(
    policies: Policies, unit_codes: npt.NDArray[np.int64], units: list[Hashable]
) -> Iterator[tuple[Calendar, npt.NDArray[np.int64]]]:
    """The rows counted on each calendar (the units' calendars; usually one)."""
    # Keyed by the calendar itself: units sharing one are counted together, and units with
    # equal but separate calendars are merely counted in two passes with the same result.
    by_calendar: dict[Calendar, list[int]] = {}
    for i, unit in enumerate(units):
        by_calendar.setdefault(policies.calendar(str(unit)), []).append(i)
    for cal, members in by_calendar.items():
        yield cal, np.flatnonzero(np.isin(unit_codes, members))


def unpack(
    rows: Sequence[Sequence[Any]], keys: int
) -> tuple[list[npt.NDArray[np.int64]], list[list[Hashable]], list[npt.NDArray[np.int64]]]:
    """Rows of (key..., count, packed members) as the database groups them
    (readmodel.report_queries.numbers: "a:b:c,a:b:c"): per key its code for every member and
    the distinct values, and each member column over all members, group after group."""
    counts = np.asarray([r[keys] for r in rows], dtype=np.int64)
    codes, values = [], []
    for k in range(keys):
        c, v = factorize([r[k] for r in rows])
        codes.append(np.repeat(c, counts))
        values.append(v)
    if not rows:
        return codes, values, []
    packed = ",".join(r[keys + 1] for r in rows).replace(":", ",")
    flat = np.fromstring(packed, dtype=np.int64, sep=",")
    total = int(counts.sum())
    if total == 0 or flat.size % total:
        raise ValueError("the grouped members do not have one value per column")
    table = flat.reshape(total, flat.size // total)
    return codes, values, [table[:, j] for j in range(table.shape[1])]


def unit_seconds(unit: str | None, cal: Calendar) -> float:
    """Seconds in one `unit` of a limit (a working day: a day of the calendar's clock)."""
    sizes = {"workday": day_seconds(cal), "workhour": 3600.0, "day": DAY_S, "hour": 3600.0}
    return sizes.get(unit or "", 60.0 if unit == "minute" else DAY_S)


def flags(values: Sequence[int | None]) -> npt.NDArray[np.int8]:
    """Verdicts as numbers: 1 kept, 0 passed, -1 not judged."""
    return np.fromiter((-1 if v is None else v for v in values), np.int8, len(values))


def share_of(verdicts: npt.NDArray[np.int8]) -> Share | None:
    judged = int((verdicts >= 0).sum())
    if judged == 0:
        return None
    within = int((verdicts == 1).sum())
    return Share(judged=judged, within=within, share=_r(within / judged))


def local_date(cal: Calendar, epoch_s: float) -> date:
    return datetime.fromtimestamp(epoch_s, UTC).astimezone(cal.zone).date()


def instant(cal: Calendar, epoch_s: float) -> datetime:
    """An epoch second as an aware instant in the calendar's zone (the unit's)."""
    return datetime.fromtimestamp(epoch_s, UTC).astimezone(cal.zone)


def working_days(cal: Calendar, a: Floats, b: Floats) -> Floats:
    return work_seconds_between(cal, a, b) / day_seconds(cal)


def group_by(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    out: dict[K, list[T]] = {}
    for item in items:
        out.setdefault(key(item), []).append(item)
    return out


def midnight(cal: Calendar, day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), cal.zone)


def span(cal: Calendar, first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in the calendar's zone."""
    return midnight(cal, first), midnight(cal, last + timedelta(days=1))
