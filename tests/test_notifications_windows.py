"""Send windows on the real 2026 CN calendar: weekends, holidays, make-up working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st

from calendars import Calendar, get_calendar
from domain.notifications.windows import (
    SendWindows,
    current_or_next_window,
    next_window,
    retry_delay,
    units_with_packs,
    window_kind,
    window_spec,
)
from policies.loader import load_policy
from tests.notification_scenarios import TZ

CAL = get_calendar("CN")
HENAN = load_policy("henan/sanmenxia")
WARN = window_spec(HENAN, "warning", "08:00-20:00")
APPT = window_spec(HENAN, "appointment", "08:00-20:00")
PROGRESS = window_spec(HENAN, "progress", "08:00-20:00")


def t(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=TZ)


def test_the_henan_table_is_read() -> None:
    assert [s.strftime("%H:%M") for s in WARN.starts] == ["08:30", "11:30", "15:30"]
    assert WARN.minutes == 30 and WARN.workdays_only
    assert "附件4" in WARN.source
    assert [s.strftime("%H:%M") for s in APPT.starts] == ["10:30", "16:30"]


def test_a_unit_without_an_sms_table_gets_the_default() -> None:
    spec = window_spec(load_policy("shanghai"), "warning", "08:00-20:00")
    assert [s.strftime("%H:%M") for s in spec.starts] == ["08:30", "11:30", "15:30"]
    assert spec.source.startswith("default")


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        # Within a working day: the next send time.
        (t(2026, 9, 22, 7, 0), t(2026, 9, 22, 8, 30)),
        (t(2026, 9, 22, 8, 30), t(2026, 9, 22, 8, 30)),
        (t(2026, 9, 22, 8, 40), t(2026, 9, 22, 11, 30)),
        (t(2026, 9, 22, 15, 31), t(2026, 9, 23, 8, 30)),
        # Friday night before a plain weekend: Monday.
        (t(2026, 11, 27, 22, 0), t(2026, 11, 30, 8, 30)),
        # Friday 09-18 22:00: Sunday 09-20 is a make-up working day (National Day 2026).
        (t(2026, 9, 18, 22, 0), t(2026, 9, 20, 8, 30)),
        # The night before the National Day week (10-01..10-07): Thursday 10-08.
        (t(2026, 9, 30, 22, 0), t(2026, 10, 8, 8, 30)),
        # Friday 10-09 evening: Saturday 10-10 is a make-up working day.
        (t(2026, 10, 9, 16, 0), t(2026, 10, 10, 8, 30)),
        # Spring Festival: Friday 02-13 night → make-up Saturday 02-14; its evening → 02-24.
        (t(2026, 2, 13, 22, 0), t(2026, 2, 14, 8, 30)),
        (t(2026, 2, 14, 22, 0), t(2026, 2, 24, 8, 30)),
        # Labour Day 05-01..05-05 from Thursday 04-30 evening: Wednesday 05-06.
        (t(2026, 4, 30, 18, 0), t(2026, 5, 6, 8, 30)),
    ],
)
def test_warning_windows(raised: datetime, expected: datetime) -> None:
    start, end = next_window(raised, WARN, CAL)
    assert start == expected
    assert end == expected + timedelta(minutes=30)  # 30分钟内发送完毕


def test_appointment_windows_skip_rest_days_too() -> None:
    assert next_window(t(2026, 9, 30, 17, 0), APPT, CAL)[0] == t(2026, 10, 8, 10, 30)
    assert next_window(t(2026, 9, 22, 11, 0), APPT, CAL)[0] == t(2026, 9, 22, 16, 30)


def test_join_open_sends_in_the_window_already_open() -> None:
    start, end = next_window(t(2026, 9, 22, 8, 45), WARN, CAL, join_open=True)
    assert (start, end) == (t(2026, 9, 22, 8, 45), t(2026, 9, 22, 9, 0))
    # Not on a rest day, though: 10-01 08:45 waits for 10-08.
    assert next_window(t(2026, 10, 1, 8, 45), WARN, CAL, join_open=True)[0] == t(2026, 10, 8, 8, 30)


def test_progress_messages_go_any_day_by_day_and_wait_out_the_night() -> None:
    assert next_window(t(2026, 10, 3, 12, 0), PROGRESS, CAL, join_open=True)[0] == t(
        2026, 10, 3, 12, 0
    )
    assert next_window(t(2026, 10, 3, 21, 0), PROGRESS, CAL, join_open=True)[0] == t(
        2026, 10, 4, 8, 0
    )
    assert next_window(t(2026, 10, 3, 21, 0), PROGRESS, CAL, join_open=True)[1] == t(
        2026, 10, 4, 20, 0
    )


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_window(datetime(2026, 9, 22, 8), WARN, CAL)


@freeze_time("2026-10-01T02:00:00Z")  # 10:00 on National Day in Shanghai
def test_current_or_next_window_reads_the_clock() -> None:
    start, _ = current_or_next_window(WARN, CAL)
    assert start == t(2026, 10, 8, 8, 30)


@freeze_time("2026-09-22T00:40:00Z")  # 08:40 on a Tuesday: the 08:30 window is open
def test_current_or_next_window_inside_a_window() -> None:
    start, end = current_or_next_window(WARN, CAL)
    assert start == datetime(2026, 9, 22, 0, 40, tzinfo=UTC)
    assert end == t(2026, 9, 22, 9, 0)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 30), timezones=st.just(TZ)
    )
)
def test_every_window_is_a_send_time_on_a_working_day(raised: datetime) -> None:
    start, end = next_window(raised, WARN, CAL)
    local = start.astimezone(TZ)
    assert start >= raised
    assert CAL.is_workday(local.date())
    assert local.strftime("%H:%M") in {"08:30", "11:30", "15:30"}
    assert (end - start).total_seconds() == 30 * 60
    # Nothing earlier qualifies: brute force over every send time from `raised` to `start`.
    day = raised.astimezone(TZ).date()
    while day <= local.date():
        if CAL.is_workday(day):
            for hm in WARN.starts:
                candidate = datetime.combine(day, hm, tzinfo=TZ)
                assert not (raised <= candidate < start)
        day += timedelta(days=1)


def test_progress_hours_must_run_forward() -> None:
    with pytest.raises(ValueError, match="SMS_PROGRESS_HOURS"):
        window_spec(HENAN, "progress", "20:00-08:00")


# --------------------------------------------------------------------------- any unit's windows

WINDOWS = SendWindows("08:00-20:00", calendar_for=lambda _r: CAL)


@pytest.mark.parametrize(
    ("code", "kind"),
    [("plan_reply", "warning"), ("appointment_confirm", "appointment"), ("", "warning")],
)
def test_window_kind(code: str, kind: str) -> None:
    assert window_kind(code) == kind


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(0, 30), (1, 30), (2, 60), (3, 120), (5, 480), (6, 600), (20, 600)]
)
def test_retry_delay_doubles_up_to_ten_minutes(attempts: int, seconds: int) -> None:
    assert retry_delay(attempts) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("unit", "kind", "at", "start"),
    [
        # A supply station has no pack: its city's windows.
        (
            "henan/sanmenxia/lingbao/yinzhuang",
            "warning",
            t(2026, 9, 22, 9, 0),
            t(2026, 9, 22, 11, 30),
        ),
        ("henan/sanmenxia", "appointment", t(2026, 9, 22, 9, 0), t(2026, 9, 22, 10, 30)),
        # No SMS table in Shanghai's pack: the default times.
        ("shanghai/pudong", "warning", t(2026, 9, 22, 12, 0), t(2026, 9, 22, 15, 30)),
        ("national", "progress", t(2026, 10, 3, 7, 0), t(2026, 10, 3, 8, 0)),
    ],
)
def test_any_units_windows_come_from_its_nearest_pack(
    unit: str, kind: str, at: datetime, start: datetime
) -> None:
    assert WINDOWS(unit, kind, at, join_open=False).start == start


def test_the_calendar_the_lookup_gives_is_the_one_counted() -> None:
    """A calendar published after the process started reaches the windows: the lookup is
    asked at every call, not once."""
    calendars = {"CN": CAL}
    windows = SendWindows("08:00-20:00", calendar_for=lambda region: calendars[region])
    at = t(2026, 9, 22, 16, 0)  # Tuesday after the last window
    assert windows("henan", "warning", at, join_open=False).start == t(2026, 9, 23, 8, 30)
    calendars["CN"] = Calendar(
        region="CN",
        version="amended",
        published_years=[2026],
        holidays=[date(2026, 9, 23)],
        makeup_workdays=[],
    )
    assert windows("henan", "warning", at, join_open=False).start == t(2026, 9, 24, 8, 30)


@pytest.mark.parametrize(
    ("attempts", "at", "window_end", "expected"),
    [
        # Early in the window: back off within it.
        (
            1,
            t(2026, 9, 22, 8, 31),
            t(2026, 9, 22, 9, 0),
            (t(2026, 9, 22, 8, 31, 30), t(2026, 9, 22, 9, 0)),
        ),
        (
            3,
            t(2026, 9, 22, 8, 40),
            t(2026, 9, 22, 9, 0),
            (t(2026, 9, 22, 8, 42), t(2026, 9, 22, 9, 0)),
        ),
        # The back-off would pass the window's end: the next window.
        (
            5,
            t(2026, 9, 22, 8, 55),
            t(2026, 9, 22, 9, 0),
            (t(2026, 9, 22, 11, 30), t(2026, 9, 22, 12, 0)),
        ),
        # The last window before National Day: the next is a week later.
        (
            4,
            t(2026, 9, 30, 15, 58),
            t(2026, 9, 30, 16, 0),
            (t(2026, 10, 8, 8, 30), t(2026, 10, 8, 9, 0)),
        ),
    ],
)
def test_after_a_transient_failure(
    attempts: int, at: datetime, window_end: datetime, expected: tuple[datetime, datetime]
) -> None:
    assert WINDOWS.after_failure("henan", "warning", attempts, at, window_end) == expected


@pytest.mark.parametrize(
    ("at", "pending", "poll", "wake"),
    [
        # Nothing pending: the next window of either kind (10:30 appointments, 11:30 warnings).
        (t(2026, 9, 22, 9, 0), [], None, t(2026, 9, 22, 10, 30)),
        (t(2026, 9, 22, 10, 45), [], None, t(2026, 9, 22, 11, 30)),
        # A pending row before any window wins.
        (t(2026, 9, 22, 9, 0), [t(2026, 9, 22, 9, 5)], None, t(2026, 9, 22, 9, 5)),
        # At a window's start, the next one (not the same instant again).
        (t(2026, 9, 22, 8, 30), [], None, t(2026, 9, 22, 10, 30)),
        # Polling for progress messages during the progress hours ...
        (t(2026, 9, 22, 9, 0), [], 5, t(2026, 9, 22, 9, 5)),
        # ... but not at night: the hours open before the first warning window.
        (t(2026, 10, 3, 22, 0), [], 5, t(2026, 10, 4, 8, 0)),
        # A holiday night without polling: the first window after National Day.
        (t(2026, 10, 3, 22, 0), [], None, t(2026, 10, 8, 8, 30)),
    ],
)
def test_next_wake(at: datetime, pending: list[datetime], poll: int | None, wake: datetime) -> None:
    assert WINDOWS.next_wake(at, pending, poll, units=["henan/sanmenxia"]) == wake


def test_next_wake_looks_at_every_pack_by_default() -> None:
    at = t(2026, 9, 22, 9, 0)
    assert WINDOWS.next_wake(at, [], None) == min(
        WINDOWS(u, k, at + timedelta(seconds=1), join_open=False).start
        for u in units_with_packs()
        for k in ("warning", "appointment")
    )
