"""A monitor as the application's status shows it: the contract's own view of what the policy
engine judged, apart from the engine's output models.

A closed application's status is stored in the read model (`final_status`) and read back for
as long as the application is kept, so every field here has a default: a field the engine
adds later is added here with a default too, and rows written before it still read. Unknown
fields are ignored, so a row written by a newer version reads on an older one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

MonitorState = Literal["pending", "running", "paused", "met", "breached"]


class DurationView(BaseModel):
    """An amount of time in one unit (workday, workhour, day, hour, minute)."""

    amount: float = 0
    unit: str = "workday"


class ThresholdView(BaseModel):
    level: str
    #: When the level is reached; null while the monitor is pending or paused before it.
    due_at: datetime | None = None
    #: Counted time at which the level fires (in the limit's unit).
    after: DurationView | None = None
    reached: bool = False
    recipients: list[str] = Field(default_factory=list)


class PauseView(BaseModel):
    start: datetime
    end: datetime | None = None
    reason: str = ""
    kind: str = "customer"


class ElapsedView(BaseModel):
    amount: float = 0
    unit: str = "workday"
    seconds: float = 0


class TooShortView(BaseModel):
    """The too-short bound (超短时限) of the monitor's stage."""

    id: str
    label: str | None = None
    provincial: DurationView | None = None
    national: DurationView | None = None
    inclusive: bool = False
    started_at: datetime | None = None
    #: Finishing before (or, if inclusive, at) this instant is too short.
    until: datetime | None = None
    flagged: bool | None = None
    result: str = ""
    source: str = ""


class MonitorView(BaseModel):
    """One time limit of the application: its state, levels and due instants."""

    id: str
    code: str
    label: str | None = None
    state: MonitorState = "pending"
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    provincial_limit: DurationView | None = None
    national_limit: DurationView | None = None
    provincial_due_at: datetime | None = None
    national_due_at: datetime | None = None
    thresholds: list[ThresholdView] = Field(default_factory=list)
    level: str | None = None
    next_due_at: datetime | None = None
    elapsed: ElapsedView | None = None
    pauses: list[PauseView] = Field(default_factory=list)
    result: str | None = None
    recipients: dict[str, list[str]] = Field(default_factory=dict)
    coordination: bool = False
    too_short: TooShortView | None = None
    calendar_version: str = ""
    provisional: bool = False
    source: str = ""
    sources: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
