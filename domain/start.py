"""Starting an application: the policy and the calendar it will be judged by, as data.

Reads the pack and calendar files, so it runs in the API (or a test), never in workflow code:
the workflow gets the result in its start input and replays from it (DESIGN.md §3).
"""

from __future__ import annotations

from datetime import datetime

from calendars import ClockConfig, get_calendar
from calendars.calendar import Calendar
from contracts.application import ApplicationInput, ApplicationStart, ApplicationStatus
from domain.answers import status
from domain.ledger import ApplicationLedger
from policies.engine import select_rules
from policies.loader import load_policy
from policies.schema import ResolvedPolicy


def calendar_for(policy: ResolvedPolicy) -> Calendar:
    """The calendar the policy counts on: its region, zone and clock."""
    s = policy.settings
    if s.clock == "office_hours":
        periods = tuple(tuple(p.split("-", 1)) for p in s.office_periods)
        clock = ClockConfig(kind="office_hours", periods=periods)  # type: ignore[arg-type]
    else:
        clock = ClockConfig()
    return get_calendar(s.calendar_region, clock=clock, tz=s.timezone)


def start_input(inp: ApplicationInput, calendar: Calendar | None = None) -> ApplicationStart:
    """Raises policies.loader.PolicyError for an unknown unit or a broken pack.

    `calendar` replaces the policy's own calendar (tests that need a holiday in the future)."""
    policy = load_policy(inp.profile.unit)
    return ApplicationStart(
        application=inp,
        policy=select_rules(policy, inp.profile),
        calendar=(calendar or calendar_for(policy)).snapshot(),
    )


def initial_status(start: ApplicationStart, now: datetime) -> ApplicationStatus:
    """What the workflow will answer once started: the same pure code, evaluated here."""
    at = max(now, start.application.profile.accepted_at)
    book = ApplicationLedger(start, at)
    ev, _ = book.sync(at)
    return status(book, ev)
