"""Property tests of the working-time arithmetic against its definitions and a brute-force model."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from calendars import Calendar, ClockConfig, get_calendar

CN = get_calendar("CN")
SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = [SHANGHAI, ZoneInfo("UTC"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")]

# Spans the published window and a margin of provisional years on both sides.
dates = st.dates(min_value=date(2015, 1, 1), max_value=date(2032, 12, 31))
far_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2300, 12, 31))
steps = st.integers(min_value=-1500, max_value=1500)
instants = st.datetimes(
    min_value=datetime(2016, 1, 1),
    max_value=datetime(2031, 12, 31),
    timezones=st.sampled_from(ZONES),
)
deltas = st.timedeltas(min_value=timedelta(days=-800), max_value=timedelta(days=800))

OFFICE = get_calendar("CN", clock=ClockConfig.office_hours())


def brute_add(cal: Calendar, d: date, n: int) -> date:
    step = timedelta(days=1 if n > 0 else -1)
    left = abs(n)
    while left:
        d += step
        if cal.is_workday(d):
            left -= 1
    return d


def brute_between(cal: Calendar, a: date, b: date) -> int:
    if a <= b:  # (a, b]
        return sum(cal.is_workday(a + timedelta(days=i + 1)) for i in range((b - a).days))
    return -sum(cal.is_workday(b + timedelta(days=i)) for i in range((a - b).days))  # [b, a)


@settings(max_examples=300)
@given(dates, steps)
def test_between_inverts_add(d: date, n: int) -> None:
    assert CN.workdays_between(d, CN.add_workdays(d, n)) == n


@settings(max_examples=200)
@given(far_dates, st.integers(min_value=-5000, max_value=5000))
def test_between_inverts_add_far_from_data(d: date, n: int) -> None:
    assert CN.workdays_between(d, CN.add_workdays(d, n)) == n


@settings(max_examples=200)
@given(dates, steps)
def test_add_lands_on_a_working_day_in_the_right_direction(d: date, n: int) -> None:
    res = CN.add_workdays(d, n)
    if n == 0:
        assert res == d
    else:
        assert CN.is_workday(res)
        assert (res > d) if n > 0 else (res < d)


@settings(max_examples=150)
@given(dates, st.integers(min_value=-60, max_value=60))
def test_add_matches_brute_force(d: date, n: int) -> None:
    assert CN.add_workdays(d, n) == brute_add(CN, d, n)


@settings(max_examples=150)
@given(dates, st.integers(min_value=-400, max_value=400))
def test_between_matches_brute_force(d: date, span: int) -> None:
    b = d + timedelta(days=span)
    assert CN.workdays_between(d, b) == brute_between(CN, d, b)


@settings(max_examples=200)
@given(dates, steps, steps)
def test_add_is_monotone_in_n(d: date, n1: int, n2: int) -> None:
    if n1 <= n2:
        assert CN.add_workdays(d, n1) <= CN.add_workdays(d, n2)
    else:
        assert CN.add_workdays(d, n1) >= CN.add_workdays(d, n2)


@settings(max_examples=200)
@given(dates, dates, st.integers(min_value=1, max_value=500))
def test_add_and_between_are_monotone_in_the_date(d1: date, d2: date, n: int) -> None:
    lo, hi = min(d1, d2), max(d1, d2)
    assert CN.add_workdays(lo, n) <= CN.add_workdays(hi, n)
    assert CN.add_workdays(lo, -n) <= CN.add_workdays(hi, -n)
    x = lo - timedelta(days=3)
    assert CN.workdays_between(x, lo) <= CN.workdays_between(x, hi)


@settings(max_examples=200)
@given(dates, dates, dates)
def test_between_is_additive_in_one_direction(a: date, b: date, c: date) -> None:
    lo, mid, hi = sorted((a, b, c))
    assert CN.workdays_between(lo, mid) + CN.workdays_between(mid, hi) == CN.workdays_between(
        lo, hi
    )
    assert CN.workdays_between(hi, mid) + CN.workdays_between(mid, lo) == CN.workdays_between(
        hi, lo
    )


@settings(max_examples=200)
@given(dates, dates)
def test_backward_count_mirrors_forward(a: date, b: date) -> None:
    # (a, b] forwards and [a, b) backwards differ only by the two endpoints.
    lo, hi = min(a, b), max(a, b)
    fwd = CN.workdays_between(lo, hi)
    back = CN.workdays_between(hi, lo)
    assert fwd + back == CN.is_workday(hi) - CN.is_workday(lo)


@settings(max_examples=300)
@given(instants, deltas)
def test_clock_inverse_pair(t: datetime, delta: timedelta) -> None:
    for cal in (CN, OFFICE):
        u = cal.add_work_time(t, delta)
        assert u.tzinfo is not None
        assert cal.work_time_between(t, u) == delta
        assert (u > t) if delta > timedelta(0) else (u <= t)


@settings(max_examples=200)
@given(instants, deltas, deltas)
def test_clock_is_monotone(t: datetime, d1: timedelta, d2: timedelta) -> None:
    lo, hi = min(d1, d2), max(d1, d2)
    for cal in (CN, OFFICE):
        assert cal.add_work_time(t, lo) <= cal.add_work_time(t, hi)


@settings(max_examples=200)
@given(instants, instants)
def test_clock_between_is_antisymmetric_and_bounded(a: datetime, b: datetime) -> None:
    assert CN.work_time_between(a, b) == -CN.work_time_between(b, a)
    if a <= b:
        assert timedelta(0) <= CN.work_time_between(a, b) <= b - a + timedelta(hours=1)


@settings(max_examples=200)
@given(instants, st.integers(min_value=-300, max_value=300))
def test_whole_working_days_agree_with_add_workdays(t: datetime, n: int) -> None:
    local = t.astimezone(SHANGHAI)
    u = CN.add_work_time(t, timedelta(days=n))
    if CN.is_workday(local.date()) and local.time() != datetime.min.time():
        # Starting inside a working day, n working days later is the same wall time.
        assert u.date() == CN.add_workdays(local.date(), n)
        assert u.timetz().replace(tzinfo=None) == local.time()


@settings(max_examples=100)
@given(instants)
def test_results_come_back_in_the_calendar_zone(t: datetime) -> None:
    u = CN.add_work_time(t.astimezone(UTC), timedelta(hours=30))
    assert u.tzinfo is CN.zone


STRICT = get_calendar("CN", strict=True)
published_instants = st.builds(
    lambda d, h, m: datetime(d.year, d.month, d.day, h, m, tzinfo=SHANGHAI),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2025, 6, 30)),
    st.sampled_from([0, 0, 9, 15, 23]),
    st.sampled_from([0, 0, 30]),
)


@settings(max_examples=300)
@given(published_instants, st.integers(min_value=1, max_value=300))
def test_whole_day_fast_path_matches_general_path(t: datetime, n: int) -> None:
    # The strict calendar never takes the whole-day fast path; inside published years the two
    # must agree, and the result must be the earliest instant with n working days elapsed.
    delta = timedelta(days=n)
    u = CN.add_work_time(t, delta)
    assert u == STRICT.add_work_time(t, delta)
    assert CN.work_time_between(t, u) == delta
    assert CN.work_time_between(t, u - timedelta(microseconds=1)) < delta
