"""Send windows: when a message may leave, from the unit's policy and the business calendar.

Warnings leave at the policy's send times on working days (Henan 附件4 二(一)3-4: 08:30, 11:30,
15:30, each 30 minutes), appointment warnings at the appointment times, customer progress
messages any time within the configured hours. Every instant comes from the caller (a warning's
raised_at, the dispatcher's workflow.now()), so time-skipped workflows and replays agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from calendars import Calendar, get_calendar
from contracts.notifications import SendWindow
from contracts.organisation import unit_chain
from policies.loader import list_units, load_policy
from policies.params import warning_notifications
from policies.schema import ResolvedPolicy

#: Used when a unit's policy has no SMS table (only the Henan document states one; it is the
#: only evidence of practice we have, so it is the default everywhere).
DEFAULT_SEND_TIMES = ("08:30", "11:30", "15:30")
DEFAULT_WINDOW_MINUTES = 30
DEFAULT_APPOINTMENT_TIMES = ("10:30", "16:30")

WindowKind = str  # "warning" | "appointment" | "progress"

#: The retry back-off within a window: 30 s, 1 min, 2 min ... at most this.
MAX_RETRY_DELAY = timedelta(minutes=10)


@dataclass(frozen=True)
class WindowSpec:
    """When messages of one kind may leave: windows starting at `starts` (local times),
    `minutes` long, on working days only or every day."""

    kind: WindowKind
    starts: tuple[time, ...]
    minutes: int
    workdays_only: bool
    tz: str
    source: str = ""


def _hhmm(s: str) -> time:
    h, m = s.split(":")
    return time(int(h), int(m))


def window_kind(code: str) -> WindowKind:
    """The windows a warning waits for: appointment confirmations have their own times."""
    return "appointment" if code == "appointment_confirm" else "warning"


def window_spec(policy: ResolvedPolicy, kind: WindowKind, progress_hours: str) -> WindowSpec:
    """The policy's windows for warnings, appointment warnings or progress messages."""
    tz = policy.settings.timezone
    if kind == "progress":
        a, b = progress_hours.split("-")
        start, end = _hhmm(a), _hhmm(b)
        minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        if minutes <= 0:
            raise ValueError("SMS_PROGRESS_HOURS: the end must come after the start (08:00-20:00)")
        return WindowSpec("progress", (start,), minutes, False, tz, "settings.sms_progress_hours")
    table = warning_notifications(policy)
    value = table.value if table else {}
    minutes = int(value.get("sms_send_window_minutes", DEFAULT_WINDOW_MINUTES))
    workdays_only = value.get("sms_send_days", "workday") == "workday"
    source = table.source if table else "default (no SMS table in the unit's policy)"
    if kind == "appointment":
        appointment = policy.params.get("appointment", {})
        times = appointment.get("online_check_times", DEFAULT_APPOINTMENT_TIMES)
    else:
        times = value.get("sms_send_times", DEFAULT_SEND_TIMES)
    return WindowSpec(
        kind, tuple(sorted(_hhmm(t) for t in times)), minutes, workdays_only, tz, source
    )


def next_window(
    at: datetime, spec: WindowSpec, calendar: Calendar, *, join_open: bool = False
) -> SendWindow:
    """The first window starting at or after `at`: (start, end) in UTC.

    With `join_open`, a window already open at `at` counts, from `at` on: used for progress
    messages (sent as soon as the hours allow) and for rows that missed their own window. A
    warning itself waits for the next window start: a window sends what was raised before it.
    """
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    tz = ZoneInfo(spec.tz)
    day = at.astimezone(tz).date() - timedelta(days=1)  # yesterday: a window may span midnight
    for _ in range(800):  # two years of consecutive rest days would be a data error
        if not spec.workdays_only or calendar.is_workday(day):
            for t in spec.starts:
                start = datetime.combine(day, t, tzinfo=tz)
                end = start + timedelta(minutes=spec.minutes)
                if start >= at:
                    return SendWindow(start.astimezone(UTC), end.astimezone(UTC))
                if join_open and start <= at < end:
                    return SendWindow(at.astimezone(UTC), end.astimezone(UTC))
        day += timedelta(days=1)
    raise ValueError(f"no {spec.kind} send window within two years of {at.isoformat()}")


def current_or_next_window(
    spec: WindowSpec, calendar: Calendar, now: datetime | None = None
) -> SendWindow:
    """For people asking "when would a message go out now": reads the wall clock unless
    `now` is given."""
    return next_window(now or datetime.now(UTC), spec, calendar, join_open=True)


def retry_delay(attempts: int) -> timedelta:
    """How long a transient gateway failure waits: 30 s after the first attempt, doubling."""
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_RETRY_DELAY)


@cache
def units_with_packs() -> frozenset[str]:
    return frozenset(list_units())


def policy_for_unit(unit: str) -> ResolvedPolicy:
    """The policy of the nearest unit with a pack (a supply station has none of its own)."""
    packs = units_with_packs()
    for u in unit_chain(unit):
        if u in packs:
            return load_policy(u)
    return load_policy("national")


class SendWindows:
    """The windows of any unit: its policy's table on its policy's calendar.

    The policy and calendar lookups are injected (the defaults read the pack and calendar
    files, cached): a published calendar reaches the windows through `calendar_for`.
    """

    def __init__(
        self,
        progress_hours: str,
        calendar_for: Callable[[str], Calendar] = get_calendar,
        policy_for: Callable[[str], ResolvedPolicy] = policy_for_unit,
    ) -> None:
        self._progress_hours = progress_hours
        self._calendar_for = calendar_for
        self._policy_for = policy_for

    def __call__(self, unit: str, kind: WindowKind, at: datetime, *, join_open: bool) -> SendWindow:
        policy = self._policy_for(unit)
        spec = window_spec(policy, kind, self._progress_hours)
        calendar = self._calendar_for(policy.settings.calendar_region)
        return next_window(at, spec, calendar, join_open=join_open)

    def after_failure(
        self, unit: str, kind: WindowKind, attempts: int, at: datetime, window_end: datetime
    ) -> SendWindow:
        """Where a row goes after a transient failure at `at`: later in its window, backing
        off; past the window's end, the next window."""
        retry_at = at + retry_delay(attempts)
        if retry_at < window_end:
            return SendWindow(retry_at, window_end)
        return self(unit, kind, window_end, join_open=False)

    def next_wake(
        self,
        at: datetime,
        pending: Iterable[datetime],
        poll_minutes: int | None,
        units: Iterable[str] | None = None,
    ) -> datetime:
        """When the dispatcher must look again: the earliest of the `pending` instants (rows'
        send_after, leases running out), the next window start of any unit's warning or
        appointment windows (new rows may arrive meanwhile), and, while progress messages
        may go out, the next poll."""
        candidates = list(pending)
        # Every pack's windows: a unit without its own pack shares its ancestor's.
        for unit in sorted(units_with_packs()) if units is None else units:
            for kind in ("warning", "appointment"):
                candidates.append(
                    self(unit, kind, at + timedelta(seconds=1), join_open=False).start
                )
        if poll_minutes:
            start = self("national", "progress", at, join_open=True).start
            candidates.append(max(start, at + timedelta(minutes=poll_minutes)))
        return min(candidates)
