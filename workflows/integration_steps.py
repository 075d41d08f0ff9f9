"""What the integrations' workflows share: activity options, running an activity with them,
and counting a reminder's interval on the unit's calendar.

Workflow code, passed through the sandbox; deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

from calendars.calendar import Calendar
from policies.schema import Duration


@dataclass(frozen=True)
class Options:
    timeout: timedelta
    retry: RetryPolicy


#: Reads and writes of the read model: the database may be down for a while, so they keep
#: trying (the workflow waits, nothing is lost).
ACTIVITY = Options(
    timeout=timedelta(seconds=60),
    retry=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
)
#: Starting an application answers an operator's request: a few tries, then the request fails
#: (and can be made again: the application's number is the project's or registration's).
START = Options(
    timeout=timedelta(seconds=30),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=5),
        maximum_attempts=5,
        non_retryable_error_types=["PolicyError", "ValidationError"],
    ),
)

_WALL = {"day": timedelta(days=1), "hour": timedelta(hours=1), "minute": timedelta(minutes=1)}


async def run_activity(fn: Callable[..., Any], arg: Any, options: Options) -> Any:
    """`fn` (an activity method) with one argument, or several given as a tuple."""
    args = list(arg) if isinstance(arg, tuple) else [arg]
    return await workflow.execute_activity_method(
        fn,
        args=args,
        start_to_close_timeout=options.timeout,
        retry_policy=options.retry,
    )


def next_working_instant(calendar: Calendar, since: datetime, every: Duration) -> datetime:
    """`every` after `since`: working days on the calendar (the same time of day, on the
    amount-th working day after), wall-clock units as they are."""
    if every.unit == "workday":
        local = since.astimezone(calendar.zone)
        day = calendar.add_workdays(local.date(), int(every.amount))
        return datetime.combine(day, local.time(), tzinfo=calendar.zone)
    if every.unit == "workhour":
        return calendar.add_work_time(since, timedelta(hours=every.amount))
    return since + _WALL[every.unit] * every.amount
