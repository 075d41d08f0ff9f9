"""Every day 2020-2026 against two independent implementations (test-only dependencies).

- chinesecalendar (PyPI `chinesecalendar`, module chinese_calendar)
- holidays (PyPI `holidays`): holidays.China plus its weekend_workdays (调休)

Expected disagreements, all explained in docs/calendars.md: none inside 2020-2026. Outside it
our calendar is provisional (weekday rule) while the packages know 2019 from its notice, and
holidays estimates 2027 from the statute before any notice exists.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calendars import get_calendar

CN = get_calendar("CN")
HOLIDAYS = holidays.country_holidays("CN", years=range(2019, 2029))
FIRST, LAST = date(2020, 1, 1), date(2026, 12, 31)
inside = st.dates(min_value=FIRST + timedelta(days=210), max_value=LAST - timedelta(days=210))


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_every_day_agrees_with_chinesecalendar() -> None:
    disagreements = [
        d for d in every_day(FIRST, LAST) if CN.is_workday(d) != chinese_calendar.is_workday(d)
    ]
    assert disagreements == []


def test_every_day_agrees_with_holidays() -> None:
    disagreements = [
        d for d in every_day(FIRST, LAST) if CN.is_workday(d) != HOLIDAYS.is_working_day(d)
    ]
    assert disagreements == []


def test_makeup_days_agree_with_both() -> None:
    ours = {d for d in CN.makeup_workdays() if FIRST <= d <= LAST}
    theirs_hol = {d for d in HOLIDAYS.weekend_workdays if FIRST <= d <= LAST}
    theirs_cc = {d for d in chinese_calendar.get_workdays(FIRST, LAST) if d.weekday() >= 5}
    assert ours == theirs_hol == theirs_cc


def test_explained_disagreements_outside_the_published_years() -> None:
    # 2019: no data file (our data starts at 2020), so the weekday rule applies; the packages
    # know the 2019 notice. We say so through is_provisional.
    d2019 = every_day(date(2019, 1, 1), date(2019, 12, 31))
    differ = [d for d in d2019 if CN.is_workday(d) != HOLIDAYS.is_working_day(d)]
    assert differ and all(CN.is_provisional(d) for d in differ)
    # 2027: no notice yet. holidays already estimates the year from the statute (lunar dates
    # plus its own "observed" shifts, without make-up days); chinesecalendar refuses the year;
    # we follow the weekday rule and report provisional. So we differ exactly on holidays'
    # weekday estimates.
    d2027 = every_day(date(2027, 1, 1), date(2027, 12, 31))
    differ = [d for d in d2027 if CN.is_workday(d) != HOLIDAYS.is_working_day(d)]
    estimated = sorted(d for d in HOLIDAYS if d.year == 2027 and d.weekday() < 5)
    assert differ == estimated
    assert date(2027, 1, 1) in differ
    assert CN.is_provisional(date(2027, 1, 1))
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


@settings(max_examples=150, deadline=None)
@given(inside, st.integers(min_value=-25, max_value=25))
def test_find_workday_convention(d: date, n: int) -> None:
    # chinese_calendar.find_workday counts the first working day on or after d as day 0, so its
    # n (>= 0) is our n + 1 counted from the day before d; for n < 0 the conventions coincide.
    if n >= 0:
        assert chinese_calendar.find_workday(n, d) == CN.add_workdays(d - timedelta(days=1), n + 1)
    else:
        assert chinese_calendar.find_workday(n, d) == CN.add_workdays(d, n)


@settings(max_examples=150, deadline=None)
@given(inside, st.integers(min_value=-25, max_value=25))
def test_get_nth_working_day_convention(d: date, n: int) -> None:
    # holidays: n != 0 is the n-th working day strictly after/before d, like ours; n == 0 rolls
    # forward to d or the next working day, where ours returns d itself.
    expected = CN.add_workdays(d, n) if n else CN.add_workdays(d - timedelta(days=1), 1)
    assert HOLIDAYS.get_nth_working_day(d, n) == expected


@settings(max_examples=100, deadline=None)
@given(inside, st.integers(min_value=-200, max_value=200))
def test_get_working_days_count_convention(d: date, span: int) -> None:
    # holidays counts the closed interval [min, max] and never goes negative.
    a, b = d, d + timedelta(days=span)
    lo, hi = min(a, b), max(a, b)
    assert HOLIDAYS.get_working_days_count(a, b) == CN.workdays_between(lo - timedelta(days=1), hi)
