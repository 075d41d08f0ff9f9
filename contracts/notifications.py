"""What crosses the boundary between the SMS dispatcher workflow and its activity, and the
send window every layer of the notifications speaks of.

The warning and progress notices the application's workflow hands over are in
`contracts.application` (they travel inside its change input).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from pydantic import BaseModel


class SendWindow(NamedTuple):
    """A message may leave in [start, end): UTC instants."""

    start: datetime
    end: datetime


class DispatchRequest(BaseModel):
    #: The dispatcher's workflow.now(): the instant the windows are judged at.
    at: datetime
    batch_size: int = 200
    #: While progress messages may go out, wake at least this often (None: only at windows).
    poll_minutes: int | None = None


class DispatchResult(BaseModel):
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    rescheduled: int = 0
    #: Rows are still due now: call again at once.
    more: bool = False
    next_wake: datetime | None = None
