"""The numpy batch form computes exactly what the scalar methods compute."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from calendars import Calendar, UnpublishedYearError, batch, get_calendar

CN = get_calendar("CN")
BASE = date(2012, 1, 1)
offsets = hnp.arrays(np.int64, st.integers(1, 200), elements=st.integers(0, 365 * 24))


def dates_from(offs: np.ndarray) -> np.ndarray:
    return np.datetime64(BASE, "D") + offs.astype("timedelta64[D]")


@settings(max_examples=60)
@given(offsets, st.integers(-2000, 2000))
def test_add_workdays_batch_matches_scalar(offs: np.ndarray, n: int) -> None:
    ds = dates_from(offs)
    got = batch.as_dates(batch.add_workdays(CN, ds, n))
    assert got == [CN.add_workdays(d, n) for d in batch.as_dates(ds)]


@settings(max_examples=60)
@given(offsets, st.integers(-900, 900))
def test_workdays_between_and_is_workday_batch_match_scalar(offs: np.ndarray, span: int) -> None:
    a = dates_from(offs)
    b = a + np.timedelta64(span, "D") - (offs % 7).astype("timedelta64[D]")
    got = batch.workdays_between(CN, a, b).tolist()
    pairs = zip(batch.as_dates(a), batch.as_dates(b), strict=True)
    assert got == [CN.workdays_between(x, y) for x, y in pairs]
    assert batch.is_workday(CN, a).tolist() == [CN.is_workday(d) for d in batch.as_dates(a)]


def test_per_element_steps_and_date_lists() -> None:
    ds = [date(2026, 9, 30), date(2026, 10, 3), date(2026, 10, 8)]
    res = batch.add_workdays(CN, ds, np.array([3, 1, -1]))
    assert batch.as_dates(res) == [date(2026, 10, 10), date(2026, 10, 8), date(2026, 9, 30)]


def test_empty_calendar_and_strict() -> None:
    plain = Calendar(region="X", version="v", published_years=[], holidays=[], makeup_workdays=[])
    res = batch.add_workdays(plain, [date(2026, 11, 20)], 1)
    assert batch.as_dates(res) == [date(2026, 11, 20) + timedelta(days=3)]
    strict = get_calendar("CN", strict=True)
    with pytest.raises(UnpublishedYearError):
        batch.add_workdays(strict, [date(2026, 12, 30)], 5)
    assert batch.workdays_between(strict, [date(2026, 1, 1)], [date(2026, 2, 1)]).tolist() == [
        CN.workdays_between(date(2026, 1, 1), date(2026, 2, 1))
    ]


instants = hnp.arrays(np.float64, st.integers(1, 200), elements=st.floats(1.2e9, 2.2e9))


@settings(max_examples=60)
@given(instants, st.floats(-3e6, 3e7))
def test_work_seconds_between_matches_scalar_work_time(a: np.ndarray, span: float) -> None:
    from datetime import UTC, datetime

    from calendars import ClockConfig

    b = a + span
    for cal in (CN, get_calendar("CN", clock=ClockConfig.office_hours())):
        got = batch.work_seconds_between(cal, a, b)
        want = [
            cal.work_time_between(
                datetime.fromtimestamp(x, UTC), datetime.fromtimestamp(y, UTC)
            ).total_seconds()
            for x, y in zip(a.tolist(), b.tolist(), strict=True)
        ]
        # Float seconds since 1970 carry microseconds to about a hundredth of a millisecond.
        assert np.allclose(got, want, rtol=0, atol=1e-3)
