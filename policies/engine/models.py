"""What the engine takes besides the policy and the profile (a calendar, events) and what it
answers (an evaluation of monitors).

The outputs are read-only by contract: the engine shares some of them between evaluations
(the thresholds of a pending monitor, a memo's answers).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from calendars.zone import is_aware
from policies.schema import Duration

State = Literal["pending", "running", "paused", "met", "breached"]


class CalendarLike(Protocol):
    """What the engine needs from a business calendar (calendars.Calendar implements it)."""

    @property
    def version(self) -> str: ...

    def add_work_time(self, t: datetime, delta: timedelta) -> datetime: ...

    def work_time_between(self, a: datetime, b: datetime) -> timedelta: ...

    def provisional_between(self, a: datetime, b: datetime) -> bool: ...


class Event(BaseModel):
    """`<code>.started` / `<code>.completed`, or `pause` / `resume` (optionally for some codes)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: str
    at: datetime
    reason: str | None = None
    #: For pause/resume: the monitor codes (or rule ids) it applies to; all when absent.
    codes: tuple[str, ...] | None = None

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if not is_aware(value):
            raise ValueError("event time must carry a time zone offset")
        return value


class Threshold(BaseModel):
    level: str
    #: When the level is reached; null while the monitor is pending or paused before it.
    due_at: datetime | None
    #: Counted time at which the level fires (in the limit's unit).
    after: Duration
    reached: bool
    recipients: list[str] = Field(default_factory=list)


class PauseOut(BaseModel):
    start: datetime
    end: datetime | None
    reason: str
    kind: Literal["customer", "policy"]


class Elapsed(BaseModel):
    amount: float
    unit: str
    seconds: float


class TooShortOut(BaseModel):
    id: str
    label: str | None
    provincial: Duration | None
    national: Duration | None
    inclusive: bool
    started_at: datetime | None
    #: Finishing before (or, if inclusive, at) this instant is too short.
    until: datetime | None
    flagged: bool | None
    result: str
    source: str


class MonitorOut(BaseModel):
    id: str
    code: str
    label: str | None
    state: State
    started_at: datetime | None
    stopped_at: datetime | None
    provincial_limit: Duration | None
    national_limit: Duration | None
    provincial_due_at: datetime | None
    national_due_at: datetime | None
    thresholds: list[Threshold]
    level: str | None
    next_due_at: datetime | None
    elapsed: Elapsed | None
    pauses: list[PauseOut]
    result: str | None
    recipients: dict[str, list[str]]
    coordination: bool
    too_short: TooShortOut | None
    calendar_version: str
    provisional: bool
    source: str
    sources: list[str]
    flags: list[str]
    notes: list[str]


class Evaluation(BaseModel):
    unit: str
    policy_version: str
    calendar_region: str
    calendar_version: str
    as_of: datetime
    accepted_on: date
    monitors: list[MonitorOut]
    next_due_at: datetime | None
    provisional: bool
    too_short: list[str]
    skipped_stages: list[str]
