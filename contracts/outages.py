"""Outage scheduling (停送电计划) as the layers share it: the pack's rules as values, what the
scheduling activity is asked and answers, the outage as the application's status shows it, and
dispatch's answer.

These travel through Temporal histories (the activity's input and result, the update's input,
the carried state): add fields with defaults, never rename or remove one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from calendars.snapshot import CalendarSnapshot
from contracts.plans import PlanRecord
from contracts.text import Note, ShortLine, Text

#: `monthly` 月计划 (35 kV and above), `biweekly` 双周计划 (10 kV), `daily` 日计划 随到随批,
#: `live_line` 不停电作业 随报随接 (no outage at all).
OutageTier = Literal["monthly", "biweekly", "daily", "live_line"]
OUTAGE_TIERS: tuple[str, ...] = ("monthly", "biweekly", "daily", "live_line")
#: `proposed`: scheduled, not yet with dispatch; `submitted`: with dispatch, waiting for its
#: answer (送(停)电计划反馈); `approved`; `rejected` (a new outage replaces it); `done`: every
#: energization it carries is recorded; `cancelled`: nothing left to carry.
OutageState = Literal["proposed", "submitted", "approved", "rejected", "done", "cancelled"]
OUTAGE_STATES: tuple[str, ...] = (
    "proposed",
    "submitted",
    "approved",
    "rejected",
    "done",
    "cancelled",
)
#: The states of an outage still to happen: the ones an application may join or hold.
LIVE_STATES: tuple[str, ...] = ("proposed", "submitted", "approved")
#: The flag of an outage taken where the plan said live-line work was possible (002 附件2 三.5).
LIVE_LINE_FLAG = "outage_instead_of_live_work"


class OutageRules(BaseModel):
    """The pack's outage parameters, each with the clause it comes from."""

    model_config = ConfigDict(frozen=True)

    monthly_day_of_month: int = Field(ge=1, le=28)
    biweekly_weekday: int = Field(ge=1, le=7)
    daily_workdays_before: int = Field(ge=0)
    notice_days: int = Field(ge=0)
    crews_per_day: int = Field(ge=1)
    sharing_workdays: int = Field(ge=0)
    #: Local wall-clock hours of an outage, "HH:MM".
    start_time: str = "08:00"
    end_time: str = "18:00"
    #: Tier by access voltage where the plan names none (a pack without a tier table).
    tier_defaults: dict[str, list[str]] = Field(default_factory=dict)
    #: Rule name -> clause: cutoffs, notice, crews, sharing, hours, tier_defaults.
    sources: dict[str, str] = Field(default_factory=dict)


class OutageJob(BaseModel):
    """The scheduling activity's input: place (or join) the outage `application_no`'s
    energization needs, from `possible_at` on. The activity reads the tier and the rules from
    the unit's pack (the start input carries no parameter tables)."""

    application_no: str
    unit: str
    #: The decided plan: its access voltage, tier, live-line work and connection point.
    plan: PlanRecord
    possible_at: datetime
    at: datetime
    calendar: CalendarSnapshot
    #: The outage dispatch rejected: the new one avoids its day and its told customers get a
    #: correction.
    rejected: str | None = None
    rejected_reason: str | None = None


class OutageFlag(BaseModel):
    code: str
    source: str
    at: datetime


class OutageRecord(BaseModel):
    """The application's outage as its status shows it (and the activity answers)."""

    id: str
    tier: OutageTier
    feeder: str | None = None
    #: None for live-line work: no outage, nothing to switch off.
    start_at: datetime | None = None
    end_at: datetime | None = None
    state: OutageState
    #: Whether this application joined an outage planned for others (一停多用).
    joined: bool = False
    applications: list[str] = Field(default_factory=list)
    affected_customers: int = 0
    notice_sent_at: datetime | None = None
    #: How the slot was chosen: the cutoff, notice, crews and sharing rules that decided it.
    explanation: list[str] = Field(default_factory=list)
    flags: list[OutageFlag] = Field(default_factory=list)
    #: Outages of this application dispatch rejected before this one.
    replaced: list[str] = Field(default_factory=list)
    decided_at: datetime | None = None
    reason: str | None = None


class OutageAnswer(BaseModel):
    """Dispatch's answer (送(停)电计划反馈) to an outage the application is carried by."""

    model_config = ConfigDict(extra="forbid")

    outage_id: ShortLine
    decision: Literal["approved", "rejected"]
    at: datetime
    by: ShortLine | None = None
    reason: Note | None = None


class RejectOutageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(description="Why dispatch cannot take the outage on its day")
    by: ShortLine | None = Field(default=None, description="Staff code, not a name")


class ApproveOutageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: ShortLine | None = Field(default=None, description="Staff code, not a name")
    note: Note | None = None


class OutageSettle(BaseModel):
    """The application no longer needs its outage (energized, or cancelled)."""

    application_no: str
    outage_id: str
    outcome: Literal["energized", "cancelled"]
    at: datetime


class Slot(BaseModel):
    """A chosen day and window, with why."""

    day: date
    start_at: datetime
    end_at: datetime
    explanation: list[str] = Field(default_factory=list)
