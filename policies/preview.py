"""Deadline preview: the body of `POST /api/deadline-preview`, without a Temporal server.

The request is the body of creating an application plus optional `events` and `as_of`; the
answer lists the monitors. The contract (outside checks rely on it) is::

    {"policy": {"unit", "version"}, "calendar": {"region", "version"},
     "monitors": [{"code", "state", "started_at", "provincial_limit", "national_limit",
                   "thresholds": [{"level", "due_at"}, ...], "provisional", "source", ...}]}

Loading the pack and the calendar reads files, so this module is for the API and tests, not for
workflow code (which calls `policies.engine.evaluate` with its snapshots).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from policies.codes import BUSINESS_TYPES, CHANNELS, DG_VARIANTS, SUPPORTING_WORKS_TYPES, VOLTAGES
from policies.engine import (
    Application,
    CalendarLike,
    Elapsed,
    Event,
    GridWorks,
    MonitorOut,
    PauseOut,
    TooShortOut,
    evaluate,
    known_event,
)
from policies.loader import list_units, load_policy
from policies.schema import Duration, ResolvedPolicy


class GridWorksIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str
    voltage: str | None = None

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value not in SUPPORTING_WORKS_TYPES:
            allowed = sorted(SUPPORTING_WORKS_TYPES)
            raise ValueError(f"unknown supporting-works type {value!r}; allowed: {allowed}")
        return value

    @field_validator("voltage")
    @classmethod
    def _voltage(cls, value: str | None) -> str | None:
        if value is not None and value not in VOLTAGES:
            raise ValueError(f"unknown voltage {value!r}; allowed: {sorted(VOLTAGES)}")
        return value


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str
    at: datetime
    reason: str | None = None
    codes: list[str] | None = None

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must carry a time zone offset, e.g. 2026-09-22T15:00:00+08:00")
        return value


class PreviewRequest(BaseModel):
    """Same body as creating an application, plus optional `events` and `as_of`."""

    model_config = ConfigDict(extra="ignore")

    unit: str
    business_type: str
    voltage: str | None = None
    capacity_kva: float | None = Field(default=None, ge=0)
    capacity_kw: float | None = Field(default=None, ge=0)
    dual_power: bool = False
    important: bool = False
    small_micro: bool = False
    area: Literal["urban", "rural"] | None = None
    grid_works: GridWorksIn | None = None
    channel: str = "counter"
    accepted_at: datetime
    dg_variant: str | None = None
    meter_change: bool | None = None
    outside_line_m: float | None = Field(default=None, ge=0)
    flags: list[str] = Field(default_factory=list)
    events: list[EventIn] = Field(default_factory=list)
    #: The instant states are judged at; default: the latest of accepted_at and the events.
    as_of: datetime | None = None

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        units = list_units()
        if value not in units:
            raise ValueError(f"unknown unit {value!r}; known: {units}")
        return value

    @field_validator("business_type")
    @classmethod
    def _business_type(cls, value: str) -> str:
        if value not in BUSINESS_TYPES:
            raise ValueError(f"unknown business type {value!r}; allowed: {sorted(BUSINESS_TYPES)}")
        return value

    @field_validator("voltage")
    @classmethod
    def _voltage(cls, value: str | None) -> str | None:
        if value is not None and value not in VOLTAGES:
            raise ValueError(f"unknown voltage {value!r}; allowed: {sorted(VOLTAGES)}")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if value not in CHANNELS:
            raise ValueError(f"unknown channel {value!r}; allowed: {sorted(CHANNELS)}")
        return value

    @field_validator("dg_variant")
    @classmethod
    def _dg_variant(cls, value: str | None) -> str | None:
        if value is not None and value not in DG_VARIANTS:
            raise ValueError(f"unknown DG variant {value!r}; allowed: {sorted(DG_VARIANTS)}")
        return value

    @field_validator("accepted_at", "as_of")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError("must carry a time zone offset, e.g. 2026-09-21T10:00:00+08:00")
        return value

    @model_validator(mode="after")
    def _events_known(self) -> PreviewRequest:
        policy = load_policy(self.unit)
        for flag in self.flags:
            if flag not in policy.application_flags:
                known = sorted(policy.application_flags)
                raise ValueError(f"flags: unknown application flag {flag!r}; known: {known}")
        for i, ev in enumerate(self.events):
            if not known_event(ev.event, policy):
                raise ValueError(
                    f"events[{i}].event: unknown event {ev.event!r}: expected <stage>.started, "
                    "<stage>.completed (GLOSSARY stage or notice code), pause or resume"
                )
            if ev.at < self.accepted_at and ev.event.rpartition(".")[0] not in (
                "appointment_confirm",
            ):
                raise ValueError(f"events[{i}].at: {ev.at.isoformat()} is before accepted_at")
        return self

    def application(self) -> Application:
        return Application(
            business_type=self.business_type,
            voltage=self.voltage,
            capacity_kva=self.capacity_kva,
            capacity_kw=self.capacity_kw,
            dual_power=self.dual_power,
            important=self.important,
            small_micro=self.small_micro,
            area=self.area,
            grid_works=(
                GridWorks(type=self.grid_works.type, voltage=self.grid_works.voltage)
                if self.grid_works is not None
                else None
            ),
            channel=self.channel,
            accepted_at=self.accepted_at,
            dg_variant=self.dg_variant,
            meter_change=self.meter_change,
            outside_line_m=self.outside_line_m,
            flags=tuple(self.flags),
        )

    def engine_events(self) -> list[Event]:
        return [
            Event(
                event=e.event,
                at=e.at,
                reason=e.reason,
                codes=tuple(e.codes) if e.codes is not None else None,
            )
            for e in self.events
        ]


class PolicyRef(BaseModel):
    unit: str
    version: str
    chain: list[str]


class CalendarRef(BaseModel):
    region: str
    version: str


class ThresholdOut(BaseModel):
    level: str
    due_at: datetime | None
    after: Duration
    reached: bool
    recipients: list[str]


class PreviewMonitor(BaseModel):
    """One monitor in the preview answer (contract fields first)."""

    code: str
    state: str
    started_at: datetime | None
    provincial_limit: Duration | None
    national_limit: Duration | None
    thresholds: list[ThresholdOut]
    provisional: bool
    source: str
    id: str
    label: str | None
    stopped_at: datetime | None
    provincial_due_at: datetime | None
    national_due_at: datetime | None
    level: str | None
    next_due_at: datetime | None
    elapsed: Elapsed | None
    pauses: list[PauseOut]
    result: str | None
    recipients: dict[str, list[str]]
    coordination: bool
    too_short: TooShortOut | None
    calendar_version: str
    sources: list[str]
    flags: list[str]
    notes: list[str]


class PreviewResponse(BaseModel):
    policy: PolicyRef
    calendar: CalendarRef
    as_of: datetime
    monitors: list[PreviewMonitor]
    next_due_at: datetime | None
    provisional: bool
    too_short: list[str]
    skipped_stages: list[str]


def _monitor(m: MonitorOut) -> PreviewMonitor:
    data: dict[str, Any] = m.model_dump()
    data["thresholds"] = [ThresholdOut.model_validate(t) for t in data["thresholds"]]
    return PreviewMonitor.model_validate(data)


def policy_calendar(policy: ResolvedPolicy) -> CalendarLike:
    """The calendar a policy's settings ask for: its region, zone and clock."""
    from calendars import ClockConfig, get_calendar

    settings = policy.settings
    clock = None
    if settings.clock == "office_hours":
        periods = [tuple(p.split("-", 1)) for p in settings.office_periods]
        clock = ClockConfig.office_hours([(a, b) for a, b in periods])
    cal: CalendarLike = get_calendar(settings.calendar_region, clock=clock, tz=settings.timezone)
    return cal


def preview(req: PreviewRequest, calendar: CalendarLike | None = None) -> PreviewResponse:
    """The monitors `req` would have, evaluated at `req.as_of` (default: its latest instant)."""
    policy = load_policy(req.unit)
    cal = calendar if calendar is not None else policy_calendar(policy)
    result = evaluate(policy, cal, req.application(), req.engine_events(), req.as_of)
    return PreviewResponse(
        policy=PolicyRef(unit=policy.unit, version=policy.version, chain=policy.chain),
        calendar=CalendarRef(region=result.calendar_region, version=result.calendar_version),
        as_of=result.as_of,
        monitors=[_monitor(m) for m in result.monitors],
        next_due_at=result.next_due_at,
        provisional=result.provisional,
        too_short=result.too_short,
        skipped_stages=result.skipped_stages,
    )
