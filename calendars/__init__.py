"""Business calendars: the project's single source of working-time arithmetic (DESIGN.md §3).

    from calendars import get_calendar
    cal = get_calendar("CN")
    cal.add_workdays(date(2026, 9, 30), 3)

Importing this package does no I/O, so workflow code may import it and use
Calendar.from_snapshot(); get_calendar() reads the data files and belongs in activities or
at workflow start. The numpy batch form lives in calendars.batch (not imported here).
"""

from calendars.cache import get_calendar, reload
from calendars.calendar import DEFAULT_TZ, Calendar
from calendars.clock import ClockConfig, OfficeHoursClock, WorkingDayClock
from calendars.errors import CalendarDataError, CalendarError, UnpublishedYearError
from calendars.loader import load_region
from calendars.snapshot import AmendmentRef, CalendarSnapshot, NoticeRef

__all__ = [
    "DEFAULT_TZ",
    "AmendmentRef",
    "Calendar",
    "CalendarDataError",
    "CalendarError",
    "CalendarSnapshot",
    "ClockConfig",
    "NoticeRef",
    "OfficeHoursClock",
    "UnpublishedYearError",
    "WorkingDayClock",
    "get_calendar",
    "load_region",
    "reload",
]
