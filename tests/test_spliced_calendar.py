"""Calendar changes reaching running deadlines: elapsed time stays elapsed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from calendars import Calendar
from calendars.spliced import SplicedCalendar

TZ = ZoneInfo("Asia/Shanghai")


def cal(version: str, holidays: list[date], years: tuple[int, ...] = (2026,)) -> Calendar:
    return Calendar(
        region="CN",
        version=version,
        published_years=years,
        holidays=holidays,
        makeup_workdays=[],
    )


OLD = cal("old", [])
# The amendment adds a rest day on Wednesday 2026-12-09.
NEW = cal("new", [date(2026, 12, 9)])
SWITCH = datetime(2026, 12, 7, 12, 0, tzinfo=TZ)  # Monday noon: the notice arrives
SPLICED = SplicedCalendar([(datetime.min.replace(tzinfo=TZ), OLD), (SWITCH, NEW)])


def test_remainder_counts_on_the_new_calendar() -> None:
    start = datetime(2026, 12, 4, 10, 0, tzinfo=TZ)  # Friday
    # 5 working days from Friday 10:00: old calendar ends Friday 11th 10:00; the new rest day
    # on Wednesday pushes it to Monday 14th 10:00.
    assert OLD.add_work_time(start, timedelta(days=5)) == datetime(2026, 12, 11, 10, tzinfo=TZ)
    assert SPLICED.add_work_time(start, timedelta(days=5)) == datetime(2026, 12, 14, 10, tzinfo=TZ)


def test_time_already_elapsed_stays_elapsed() -> None:
    # The amendment also (retroactively) rests Friday 4th; the elapsed part must not change.
    retro = cal("retro", [date(2026, 12, 4)])
    spliced = SplicedCalendar([(datetime.min.replace(tzinfo=TZ), OLD), (SWITCH, retro)])
    start = datetime(2026, 12, 4, 10, 0, tzinfo=TZ)
    assert spliced.work_time_between(start, SWITCH) == OLD.work_time_between(start, SWITCH)
    assert spliced.work_time_between(start, SWITCH) == timedelta(hours=14 + 12)
    assert retro.work_time_between(start, SWITCH) == timedelta(hours=12)


def test_versions_are_all_cited() -> None:
    assert SPLICED.versions == ("old", "new")
    assert SPLICED.version == "new"


def test_one_segment_is_the_calendar_itself() -> None:
    one = SplicedCalendar([(SWITCH, NEW)])
    t = datetime(2026, 12, 1, 9, tzinfo=TZ)
    assert one.add_work_time(t, timedelta(days=7)) == NEW.add_work_time(t, timedelta(days=7))


def test_provisional_follows_the_segment_in_force() -> None:
    provisional_2027 = cal("p", [], years=(2026,))
    published_2027 = cal("q", [], years=(2026, 2027))
    switch = datetime(2027, 1, 5, tzinfo=TZ)
    s = SplicedCalendar([(switch, provisional_2027), (switch, published_2027)][:1])
    assert s.provisional_between(datetime(2026, 12, 30, tzinfo=TZ), switch)
    s2 = SplicedCalendar(
        [(datetime.min.replace(tzinfo=TZ), provisional_2027), (switch, published_2027)]
    )
    assert s2.provisional_between(datetime(2026, 12, 30, tzinfo=TZ), switch)
    assert not s2.provisional_between(switch, datetime(2027, 3, 1, tzinfo=TZ))


instants = st.datetimes(
    min_value=datetime(2026, 11, 20), max_value=datetime(2026, 12, 31), timezones=st.just(TZ)
)
spans = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


@settings(max_examples=200, deadline=None)
@given(instants, spans)
def test_add_and_between_are_inverse_across_the_switch(t: datetime, d: timedelta) -> None:
    end = SPLICED.add_work_time(t, d)
    assert SPLICED.work_time_between(t, end) == d
    assert SPLICED.work_time_between(SPLICED.add_work_time(end, -d), end) == d


@settings(max_examples=200, deadline=None)
@given(instants, instants)
def test_between_is_additive_at_the_switch(a: datetime, b: datetime) -> None:
    if b < a:
        a, b = b, a
    if a <= SWITCH <= b:
        assert SPLICED.work_time_between(a, b) == OLD.work_time_between(
            a, SWITCH
        ) + NEW.work_time_between(SWITCH, b)
