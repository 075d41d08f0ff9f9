"""Worked examples of the public API (DESIGN.md §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import calendars
from calendars import (
    Calendar,
    ClockConfig,
    UnpublishedYearError,
    get_calendar,
)

SH = ZoneInfo("Asia/Shanghai")
CN = get_calendar("CN")


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def test_is_workday_examples() -> None:
    assert CN.is_workday(date(2026, 9, 30))  # Wednesday before National Day
    assert not CN.is_workday(date(2026, 10, 1))
    assert CN.is_workday(date(2026, 9, 20))  # Sunday make-up day
    assert CN.is_workday(date(2026, 10, 10))  # Saturday make-up day
    assert not CN.is_workday(date(2026, 11, 21))  # ordinary Saturday
    assert not CN.is_workday(date(2020, 1, 31))  # added by 国办发明电〔2020〕1号
    assert not CN.is_workday(date(2020, 2, 1))  # make-up day cancelled by the same amendment
    assert CN.is_workday(date(2024, 2, 9))  # 除夕 2024 was not a holiday


def test_add_workdays_examples() -> None:
    assert CN.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CN.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert CN.add_workdays(date(2026, 10, 3), 1) == date(2026, 10, 8)  # from a rest day
    assert CN.add_workdays(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert CN.add_workdays(date(2026, 10, 3), -1) == date(2026, 9, 30)
    assert CN.add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 3)


def test_workdays_between_examples() -> None:
    assert CN.workdays_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert CN.workdays_between(date(2026, 10, 12), date(2026, 9, 30)) == -4
    assert CN.workdays_between(date(2026, 10, 3), date(2026, 10, 3)) == 0
    # 2026: 261 weekdays - 19 weekday holidays + 6 make-up days.
    assert CN.workdays_between(date(2025, 12, 31), date(2026, 12, 31)) == 248
    assert CN.workdays_between(date(2026, 10, 3), date(2026, 9, 30)) == -1  # [9-30, 10-3)


def test_working_day_clock_follows_design_example() -> None:
    # DESIGN.md §3: a 2-working-day limit started Friday 15:00 ends Tuesday 15:00.
    assert CN.add_work_time(at(2026, 11, 20, 15), timedelta(days=2)) == at(2026, 11, 24, 15)
    assert CN.work_time_between(at(2026, 11, 20, 15), at(2026, 11, 24, 15)) == timedelta(days=2)
    # The clock stands still over the weekend.
    assert CN.work_time_between(at(2026, 11, 21, 9), at(2026, 11, 22, 18)) == timedelta(0)
    # A limit that runs out with Friday ends at Friday 24:00, not Monday 00:00.
    assert CN.add_work_time(at(2026, 11, 20, 15), timedelta(hours=9)) == at(2026, 11, 21)
    # Going backwards, the latest instant is returned.
    assert CN.add_work_time(at(2026, 11, 23, 10), timedelta(hours=-10)) == at(2026, 11, 23)
    # From a rest day, time starts at the next working day's midnight.
    assert CN.add_work_time(at(2026, 10, 3, 12), timedelta(hours=6)) == at(2026, 10, 8, 6)
    assert CN.add_work_time(at(2026, 10, 3, 12), timedelta(0)) == at(2026, 10, 3, 12)


def test_clock_accepts_any_zone_and_answers_in_the_calendar_zone() -> None:
    utc = datetime(2026, 11, 20, 7, tzinfo=UTC)  # 15:00 in Shanghai
    res = CN.add_work_time(utc, timedelta(days=2))
    assert res == at(2026, 11, 24, 15)
    assert str(res.tzinfo) == "Asia/Shanghai"
    # A "day" is decided in the calendar's zone: 2026-10-08 00:30 Shanghai is a working day
    # even though it is still 10-07 (a holiday) in UTC.
    t = datetime(2026, 10, 7, 16, 30, tzinfo=UTC)
    assert CN.work_time_between(at(2026, 10, 8), t) == timedelta(minutes=30)


def test_other_calendar_zone() -> None:
    utc_cal = get_calendar("CN", tz="UTC")
    t = datetime(2026, 10, 7, 16, 30, tzinfo=UTC)
    assert utc_cal.add_work_time(t, timedelta(hours=1)) == datetime(
        2026, 10, 8, 1, tzinfo=ZoneInfo("UTC")
    )
    assert utc_cal.snapshot().tz == "UTC"


def test_office_hours_clock() -> None:
    office = get_calendar("CN", clock="office_hours")  # 08:30-12:00, 13:30-17:30: 7.5 h a day
    assert office.clock == ClockConfig.office_hours()
    start = at(2026, 11, 20, 15)  # Friday, 2.5 h left today
    assert office.add_work_time(start, timedelta(hours=2, minutes=30)) == at(2026, 11, 20, 17, 30)
    assert office.add_work_time(start, timedelta(hours=3)) == at(2026, 11, 23, 9)
    # Between the two periods: earliest forwards (12:00), latest backwards (13:30).
    assert office.add_work_time(at(2026, 11, 23, 9), timedelta(hours=3)) == at(2026, 11, 23, 12)
    assert office.add_work_time(at(2026, 11, 23, 15), timedelta(hours=-1, minutes=-30)) == at(
        2026, 11, 23, 13, 30
    )
    assert office.work_time_between(at(2026, 11, 20, 0), at(2026, 11, 24, 0)) == timedelta(hours=15)
    # Lunch and nights do not count.
    assert office.work_time_between(at(2026, 11, 23, 12), at(2026, 11, 23, 13, 30)) == timedelta(0)
    custom = get_calendar(
        "CN", clock=ClockConfig(kind="office_hours", periods=(("09:00", "17:00"),))
    )
    assert custom.add_work_time(at(2026, 9, 30, 16), timedelta(hours=2)) == at(2026, 10, 8, 10)


def test_invalid_clock_configs() -> None:
    with pytest.raises(ValueError):
        ClockConfig(kind="office_hours", periods=(("12:00", "09:00"),))
    with pytest.raises(ValueError):
        ClockConfig(kind="office_hours", periods=(("09:00", "12:00"), ("11:00", "13:00")))
    with pytest.raises(ValueError):
        ClockConfig(kind="working_day", periods=(("09:00", "12:00"),))
    with pytest.raises(ValueError):
        get_calendar("CN", clock="lunar")


def test_naive_datetimes_are_refused_naming_the_argument() -> None:
    naive = datetime(2026, 11, 20, 15)
    with pytest.raises(ValueError, match=r"\bt\b.*timezone-aware"):
        CN.add_work_time(naive, timedelta(hours=1))
    with pytest.raises(ValueError, match=r"\ba\b.*timezone-aware"):
        CN.work_time_between(naive, at(2026, 11, 20))
    with pytest.raises(ValueError, match=r"\bb\b.*timezone-aware"):
        CN.work_time_between(at(2026, 11, 20), naive)
    with pytest.raises(ValueError, match=r"\bb\b.*timezone-aware"):
        CN.provisional_between(at(2026, 11, 20), naive)


def test_datetimes_are_not_dates_here() -> None:
    with pytest.raises(TypeError, match="d must be a date"):
        CN.add_workdays(at(2026, 11, 20), 1)
    with pytest.raises(TypeError, match="b must be a date"):
        CN.workdays_between(date(2026, 1, 1), "2026-01-02")  # type: ignore[arg-type]


def test_provisional_years_follow_the_weekday_rule() -> None:
    assert not CN.is_provisional(date(2026, 12, 31))
    assert CN.is_provisional(date(2027, 1, 1))
    assert CN.is_provisional(date(2019, 12, 31))
    assert CN.is_workday(date(2027, 1, 1))  # a Friday: New Year is not known until published
    assert not CN.is_workday(date(2027, 1, 2))
    assert CN.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert not CN.provisional_between(at(2026, 1, 1), at(2026, 12, 31, 23, 59))
    assert CN.provisional_between(at(2026, 12, 20), at(2027, 1, 5))
    assert CN.provisional_between(at(2027, 1, 5), at(2026, 12, 20))
    # 2026-12-31 16:30 UTC is already 2027 in Shanghai.
    late = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert CN.provisional_between(late, late)


def test_strict_calendar_raises_on_unpublished_years() -> None:
    strict = get_calendar("CN", strict=True)
    assert strict.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    with pytest.raises(UnpublishedYearError, match="2027"):
        strict.add_workdays(date(2026, 12, 28), 10)
    with pytest.raises(UnpublishedYearError):
        strict.is_workday(date(2019, 5, 1))
    with pytest.raises(UnpublishedYearError):
        strict.workdays_between(date(2026, 6, 1), date(2027, 6, 1))
    with pytest.raises(UnpublishedYearError):
        strict.add_work_time(at(2026, 12, 30), timedelta(days=5))
    with pytest.raises(UnpublishedYearError):
        strict.work_time_between(at(2019, 12, 30), at(2020, 1, 5))
    assert strict.add_work_time(at(2026, 12, 30), timedelta(days=1)) == at(2026, 12, 31)


def test_get_calendar_caches_and_reloads() -> None:
    assert get_calendar("CN") is get_calendar("cn")
    assert get_calendar("CN") is not get_calendar("CN", strict=True)
    first = get_calendar("CN")
    calendars.reload()
    second = get_calendar("CN")
    assert second is not first
    assert second.version == first.version
    assert get_calendar("CN", reload=True) is not second


def test_region_falls_back_to_national() -> None:
    henan = get_calendar("CN-HA")
    assert henan.region == "CN-HA"
    assert henan.version == CN.version  # no Henan files: exactly the national data
    assert henan.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    with pytest.raises(ValueError, match="region code"):
        get_calendar("china")


def test_version_is_short_and_stable() -> None:
    assert len(CN.version) == 12
    assert get_calendar("CN", reload=True).version == CN.version


def test_repr_and_sources() -> None:
    assert "CN" in repr(CN)
    numbers = {s.year: s.number for s in CN.sources}
    assert numbers[2020] == "国办发明电〔2019〕16号"
    assert numbers[2026] == "国办发明电〔2025〕7号"
    amendments = next(s for s in CN.sources if s.year == 2020).amendments
    assert [a.number for a in amendments] == ["国办发明电〔2020〕1号"]


def test_calendar_constructor_rejects_inconsistent_lists() -> None:
    with pytest.raises(ValueError, match="weekend"):
        Calendar(
            region="X",
            version="v",
            published_years=[2026],
            holidays=[date(2026, 11, 21)],
            makeup_workdays=[],
        )
    with pytest.raises(ValueError, match="not a Saturday or Sunday"):
        Calendar(
            region="X",
            version="v",
            published_years=[2026],
            holidays=[],
            makeup_workdays=[date(2026, 11, 20)],
        )
    with pytest.raises(ValueError, match="without published data"):
        Calendar(
            region="X",
            version="v",
            published_years=[2026],
            holidays=[date(2027, 1, 1)],
            makeup_workdays=[],
        )


def test_empty_calendar_is_the_weekday_rule() -> None:
    plain = Calendar(region="X", version="v", published_years=[], holidays=[], makeup_workdays=[])
    assert plain.add_workdays(date(2026, 11, 20), 1) == date(2026, 11, 23)
    assert plain.workdays_between(date(2026, 11, 20), date(2026, 11, 27)) == 5
    assert plain.is_provisional(date(2026, 1, 1))
