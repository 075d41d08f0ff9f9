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
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
    model_validator,
)

from policies import combinations
from policies.engine import (
    CalendarLike,
    Elapsed,
    Event,
    MonitorOut,
    PauseOut,
    TooShortOut,
    evaluate,
    known_event,
)
from policies.loader import list_units, load_policy
from policies.plans.resources import Location
from policies.profile import ApplicationProfile, Instant, require_aware
from policies.schema import Duration, ResolvedPolicy


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str
    at: datetime
    reason: str | None = None
    codes: list[str] | None = None

    _aware = field_validator("at")(require_aware)


#: Realistic maxima: the largest single connections are a few hundred MVA; 2,000 MVA is
#: beyond any one customer, so a larger number is a typo or a unit mistake (W for kW).
MAX_CAPACITY = 2_000_000
#: 100 km of outside line: beyond that the connection is a transmission project.
MAX_OUTSIDE_LINE_M = 100_000


def profile_json_schema(schema: dict[str, Any], cls: type[Any]) -> None:  # noqa: ARG001
    """The checks below, for clients and fuzzers: the known units, which voltages go with
    which business type (policies.combinations), and each unit's declared flags."""
    units = list_units()
    schema["properties"]["unit"]["enum"] = units
    declared = {u: sorted(load_policy(u).application_flags) for u in units}
    every = sorted({f for flags in declared.values() for f in flags})
    schema["properties"]["flags"]["items"] = {"type": "string", "enum": every}
    per_unit: list[dict[str, Any]] = [
        {
            "if": {"properties": {"unit": {"const": u}}, "required": ["unit"]},
            "then": {
                "properties": {"flags": {"items": {"enum": flags}} if flags else {"maxItems": 0}}
            },
        }
        for u, flags in declared.items()
    ]
    schema["allOf"] = [*combinations.json_schema(), *per_unit]


class LocationIn(Location):
    """A location as a request brings it: WGS84 degrees as JSON numbers, not as strings."""

    model_config = ConfigDict(strict=True)


class ProfileIn(ApplicationProfile):
    """An application's attributes as a request brings them: also checked against the packs
    (the unit exists, its flags are declared), for attributes that go together
    (policies.combinations) and for realistic, finite numbers. The create body and the
    preview share it."""

    model_config = ConfigDict(json_schema_extra=profile_json_schema)

    accepted_at: Instant
    dual_power: StrictBool = False
    important: StrictBool = False
    small_micro: StrictBool = False
    meter_change: StrictBool | None = None
    capacity_kva: float | None = Field(
        default=None,
        ge=0,
        le=MAX_CAPACITY,
        allow_inf_nan=False,
        strict=True,
        description="Up to 2,000,000",
    )
    capacity_kw: float | None = Field(
        default=None,
        ge=0,
        le=MAX_CAPACITY,
        allow_inf_nan=False,
        strict=True,
        description="Up to 2,000,000",
    )
    outside_line_m: float | None = Field(
        default=None, ge=0, le=MAX_OUTSIDE_LINE_M, allow_inf_nan=False, strict=True
    )
    location: LocationIn | None = None

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        units = list_units()
        if value not in units:
            raise ValueError(f"unknown unit {value!r}; known: {', '.join(units)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        errors = combinations.combination_errors(self)
        if errors:
            field, reason = errors[0]
            raise ValueError(f"{field}: {reason}")
        return self

    @model_validator(mode="after")
    def _flags_declared(self) -> Self:
        policy = load_policy(self.unit)
        for flag in self.flags:
            if flag not in policy.application_flags:
                known = sorted(policy.application_flags)
                raise ValueError(f"flags: unknown application flag {flag!r}; known: {known}")
        return self


class PreviewRequest(ProfileIn):
    """Same body as creating an application, plus optional `events` and `as_of`; the create
    body's other fields (application number, customer) are ignored here."""

    model_config = ConfigDict(extra="ignore")

    events: list[EventIn] = Field(default_factory=list)
    #: The instant states are judged at; default: the latest of accepted_at and the events.
    as_of: Instant | None = None

    _aware_as_of = field_validator("as_of")(require_aware)

    @model_validator(mode="after")
    def _events_known(self) -> PreviewRequest:
        policy = load_policy(self.unit)
        for i, ev in enumerate(self.events):
            if not known_event(ev.event, policy):
                raise ValueError(
                    f"events[{i}].event: unknown event {ev.event!r}: expected <stage>.started, "
                    "<stage>.completed (docs/glossary.md stage or notice code), pause or resume"
                )
            if ev.at < self.accepted_at and ev.event.rpartition(".")[0] not in (
                "appointment_confirm",
            ):
                raise ValueError(f"events[{i}].at: {ev.at.isoformat()} is before accepted_at")
        return self

    def application(self) -> ApplicationProfile:
        return self

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
