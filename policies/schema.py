"""Policy-pack schema: what a pack file may say, and the resolved policy the engine reads.

Pure pydantic models, no I/O: this module is imported inside the Temporal workflow sandbox, and
`ResolvedPolicy` travels as JSON in a workflow's start input (`model_dump(mode="json")` and
`ResolvedPolicy.model_validate(...)` round-trip exactly).

A pack entry (monitor, variant, too-short rule, stage rule) is a *patch*: a child pack names the
same `id` and sets only the fields it changes; `clear = [...]` removes inherited values (TOML has
no null). The loader merges the chain root-first and then checks that every merged rule is complete.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from policies.codes import (
    AREAS,
    BUSINESS_TYPES,
    CHANNELS,
    DG_VARIANTS,
    FULL_PROCESS,
    LEVELS,
    NOTICE_CODES,
    ROLES,
    STAGE_CODES,
    SUPPORTING_WORKS_TYPES,
    VOLTAGES,
)

TimeUnit = Literal["workday", "workhour", "day", "hour", "minute"]
Level = Literal["blue", "yellow", "orange", "red"]
Result = Literal["assess", "notify", "onsite_check", "none"]
Clock = Literal["working_day", "office_hours"]

WORKING_UNITS: frozenset[str] = frozenset({"workday", "workhour"})
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_ID = re.compile(r"^[a-z0-9_][a-z0-9_.\-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Duration(_Strict):
    """An amount of time in one unit.

    `workday`/`workhour` count the policy's business clock (DESIGN.md §3: a working day is 24 h of
    business time under the working-day clock); `day`/`hour`/`minute` are wall-clock.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    amount: int | float = Field(gt=0)
    unit: TimeUnit

    @property
    def working(self) -> bool:
        return self.unit in WORKING_UNITS

    def business_hours(self, day_hours: float) -> float:
        """Length in hours of the clock this duration counts on."""
        if self.unit == "workday":
            return float(self.amount) * day_hours
        if self.unit == "day":
            return float(self.amount) * 24.0
        if self.unit == "minute":
            return float(self.amount) / 60.0
        return float(self.amount)

    def to_timedelta(self, day_hours: float = 24.0) -> timedelta:
        return timedelta(hours=self.business_hours(day_hours))


class Source(_Strict):
    """Where a rule comes from: the document file and the section/table/row within it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str = Field(min_length=1)
    section: str = Field(min_length=1)
    quote: str | None = None

    def cite(self) -> str:
        return f"{self.file} {self.section}"


def _check_codes(values: list[str] | None, allowed: frozenset[str], what: str) -> None:
    if values is None:
        return
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"unknown {what} {unknown!r}; allowed: {sorted(allowed)}")


class Condition(_Strict):
    """When a rule applies: every given field must hold (AND); omitted fields do not matter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    business_types: list[str] | None = None
    voltages: list[str] | None = None
    dual_power: bool | None = None
    important: bool | None = None
    small_micro: bool | None = None
    area: str | None = None
    grid_works: bool | None = None
    grid_works_types: list[str] | None = None
    grid_works_voltages: list[str] | None = None
    channels: list[str] | None = None
    capacity_kva_gt: float | None = None
    capacity_kva_le: float | None = None
    #: For documents that state capacity in kW (用电设备容量): compared with the application's
    #: `capacity_kw`, never converted from kVA.
    capacity_kw_gt: float | None = None
    capacity_kw_le: float | None = None
    outside_line_m_gt: float | None = None
    outside_line_m_le: float | None = None
    dg_variants: list[str] | None = None
    meter_change: bool | None = None
    flags: list[str] | None = None
    not_flags: list[str] | None = None
    #: At least one of these must hold (OR), in addition to the fields above.
    any_of: list[Condition] | None = None

    @model_validator(mode="after")
    def _known_codes(self) -> Condition:
        # Business types are checked by the loader, which knows the pack's declared extras.
        _check_codes(self.voltages, VOLTAGES, "voltage")
        _check_codes(self.grid_works_voltages, VOLTAGES, "voltage")
        _check_codes(self.grid_works_types, SUPPORTING_WORKS_TYPES, "supporting-works type")
        _check_codes(self.channels, CHANNELS, "channel")
        _check_codes(self.dg_variants, DG_VARIANTS, "DG variant")
        if self.area is not None and self.area not in AREAS:
            raise ValueError(f"unknown area {self.area!r}; allowed: {sorted(AREAS)}")
        return self


class EventSpec(_Strict):
    """A start or stop condition.

    Exactly one of `event`, `latest_of` (the instant the last of several events has happened: all
    *applicable* ones must have occurred), `earliest_of`. Event names are `<code>.started` or
    `<code>.completed`. `occurrence` picks the first or last occurrence of a repeated event
    (default: first for a start `event`, last for a stop, as in "最后一次【安装信息录入】完成时间";
    `latest_of` takes each event's last occurrence, `earliest_of` each event's first).
    `truncate = "day"` moves the instant to 00:00 of its day in the policy's time zone
    ("预约时间当日 0:00").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: str | None = None
    latest_of: list[str] | None = None
    earliest_of: list[str] | None = None
    occurrence: Literal["first", "last"] | None = None
    truncate: Literal["none", "day"] = "none"

    @model_validator(mode="after")
    def _exactly_one(self) -> EventSpec:
        given = [x for x in (self.event, self.latest_of, self.earliest_of) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of event, latest_of, earliest_of")
        if self.latest_of is not None and not self.latest_of:
            raise ValueError("latest_of must list at least one event")
        if self.earliest_of is not None and not self.earliest_of:
            raise ValueError("earliest_of must list at least one event")
        return self

    @property
    def events(self) -> list[str]:
        if self.event is not None:
            return [self.event]
        return list(self.latest_of or self.earliest_of or [])


class PauseSpec(_Strict):
    """A policy-declared exclusion: time between `from_event` and `to_event` does not count."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    from_event: str
    to_event: str
    reason: str = Field(min_length=1)


class LeadRule(_Strict):
    """A default warning lead: applies when the limit is at most `limit_le` (always if absent)."""

    limit_le: Duration | None = None
    lead: Duration


class WarningRules(_Strict):
    """Default lead times where a table row gives none, and the levels derived from the limits."""

    blue: list[LeadRule] | None = None
    orange: list[LeadRule] | None = None
    notice_orange: Duration | None = None
    #: Levels used when provincial == national and a rule lists no levels of its own.
    equal_limits_levels: list[Level] | None = None
    source: Source | None = None


class RecipientLevel(_Strict):
    roles: list[str] = Field(default_factory=list)
    #: Added only when the monitor is a coordination item (协同事项).
    coordination_roles: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_roles(self) -> RecipientLevel:
        _check_codes(self.roles, ROLES, "role")
        _check_codes(self.coordination_roles, ROLES, "role")
        return self


class RecipientProfile(_Strict):
    blue: RecipientLevel | None = None
    yellow: RecipientLevel | None = None
    orange: RecipientLevel | None = None
    red: RecipientLevel | None = None
    source: Source

    def for_level(self, level: str) -> RecipientLevel | None:
        value = getattr(self, level)
        return value if isinstance(value, RecipientLevel) else None


class PackSettings(_Strict):
    """A pack's `[settings]` table (time zone, calendar, clock); a child sets only what it
    changes. The merged result is `ResolvedSettings`."""

    timezone: str | None = None
    calendar_region: str | None = None
    clock: Clock | None = None
    #: Length of one working day on the business clock (24 under the working-day clock).
    day_hours: float | None = Field(default=None, gt=0, le=24)
    #: Office periods for the office-hours clock, e.g. ["08:30-12:00", "13:30-17:30"].
    office_periods: list[str] | None = None
    source: Source | None = None


class _Rule(_Strict):
    """Fields shared by every mergeable entry."""

    id: str
    effective_from: date | None = None
    #: Exclusive: the rule is in force for acceptance dates before this day.
    effective_until: date | None = None
    source: Source | None = None
    clear: list[str] | None = None
    notes: list[str] | None = None
    #: Ids of `inconsistencies` entries this rule takes part in.
    flags: list[str] | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(f"id {value!r} must be lower-case letters, digits, _ . -")
        return value

    def in_force(self, on: date) -> bool:
        if self.effective_from is not None and on < self.effective_from:
            return False
        return not (self.effective_until is not None and on >= self.effective_until)


class LimitFields(_Rule):
    """Limits and warning settings a variant may change."""

    label: str | None = None
    when: Condition | None = None
    provincial: Duration | None = None
    national: Duration | None = None
    blue_lead: Duration | None = None
    orange_lead: Duration | None = None
    levels: list[Level] | None = None
    result: Result | None = None
    recipients: str | None = None


class VariantRule(LimitFields):
    """A case of a monitor: applies when `when` holds; later variants win over earlier ones."""


class MonitorRule(LimitFields):
    """A monitor (监控项目): what starts, stops and pauses its clock, its limits and warnings.

    `code` is the stage code it times, `full_process` for whole-process limits, or a notice code.
    """

    code: str | None = None
    enabled: bool | None = None
    start: EventSpec | None = None
    stop: EventSpec | None = None
    pauses: list[PauseSpec] | None = None
    #: Whether customer-caused `pause`/`resume` events stop this clock (default true).
    customer_pauses: bool | None = None
    coordination: bool | None = None
    #: Warning instants are moved to the next of these times of day (e.g. 10:30, 16:30 daily).
    check_times: list[str] | None = None
    variants: list[VariantRule] | None = None
    #: Filled by the loader: every source that contributed, root pack first.
    sources: list[Source] | None = None
    #: Filled by the loader: parent values a child replaced (contradictions recorded, not lost).
    superseded: list[Superseded] | None = None

    @field_validator("check_times")
    @classmethod
    def _times(cls, value: list[str] | None) -> list[str] | None:
        for item in value or []:
            if not _TIME_OF_DAY.match(item):
                raise ValueError(f"check time {item!r} must be HH:MM")
        return value


class Superseded(_Strict):
    field: str
    value: Any
    unit: str
    source: Source | None = None
    replaced_by: Source | None = None


class TooShortRule(_Rule):
    """A row of the too-short table (超短时限一览表): finishing within the bound is flagged."""

    code: str | None = None
    label: str | None = None
    enabled: bool | None = None
    when: Condition | None = None
    start: EventSpec | None = None
    stop: EventSpec | None = None
    provincial: Duration | None = None
    national: Duration | None = None
    #: True for "≤ N" (finishing exactly at the bound is flagged), false for "< N".
    inclusive: bool | None = None
    result: Result | None = None
    sources: list[Source] | None = None


class StageRule(_Rule):
    """A stage exists for an application only when `when` holds (e.g. design review: important)."""

    stage: str | None = None
    label: str | None = None
    when: Condition | None = None
    sources: list[Source] | None = None


class BusinessTypeRule(_Rule):
    """Treat a business type as another one too (when `when` holds) for rule matching."""

    business_type: str | None = None
    treat_as: str | None = None
    when: Condition | None = None
    sources: list[Source] | None = None


class Inconsistency(_Strict):
    """A place where a document contradicts itself or another; encoded as written."""

    id: str
    description: str = Field(min_length=1)
    as_written: str = Field(min_length=1)
    encoded_as: str = Field(min_length=1)
    source: Source
    rules: list[str] = Field(default_factory=list)


class PackHeader(_Strict):
    unit: str = Field(min_length=1)
    #: Parent unit; default: the path parent (`henan` for `henan/sanmenxia`), `national` for a
    #: top-level unit. `national` itself has none.
    parent: str | None = None
    title: str = Field(min_length=1)
    issuer: str | None = None
    documents: list[Source] = Field(default_factory=list)
    #: Monitor/too-short/stage ids (fnmatch patterns) inherited from the parent and dropped here.
    drop_inherited: list[str] = Field(default_factory=list)
    #: New codes this pack introduces (code -> Chinese label); documented in the pack's notes.
    extra_codes: dict[str, str] = Field(default_factory=dict)
    #: Application flags this pack's conditions may test (code -> meaning). A condition naming an
    #: undeclared flag is refused, so a misspelt flag cannot silently never match.
    application_flags: dict[str, str] = Field(default_factory=dict)


class PackFile(_Strict):
    """One pack file, as written."""

    pack: PackHeader
    settings: PackSettings | None = None
    warning_rules: WarningRules | None = None
    recipient_profiles: dict[str, RecipientProfile] = Field(default_factory=dict)
    event_aliases: dict[str, str] = Field(default_factory=dict)
    business_type_rules: list[BusinessTypeRule] = Field(default_factory=list)
    stages: list[StageRule] = Field(default_factory=list)
    monitors: list[MonitorRule] = Field(default_factory=list)
    too_short: list[TooShortRule] = Field(default_factory=list)
    #: Named parameter tables (plan generation, approvals, outage tiers, SMS, checklists...).
    #: Each must carry a `source` table; child tables replace parent keys one by one.
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    inconsistencies: list[Inconsistency] = Field(default_factory=list)


class ResolvedSettings(_Strict):
    timezone: str
    calendar_region: str
    clock: Clock
    day_hours: float
    office_periods: list[str] = Field(default_factory=list)


class ResolvedPolicy(_Strict):
    """A unit's policy with its whole chain merged; the engine's input. JSON round-trips."""

    unit: str
    chain: list[str]
    version: str
    settings: ResolvedSettings
    warning_rules: WarningRules
    recipient_profiles: dict[str, RecipientProfile]
    event_aliases: dict[str, str]
    business_type_rules: list[BusinessTypeRule]
    stages: list[StageRule]
    monitors: list[MonitorRule]
    too_short: list[TooShortRule]
    params: dict[str, dict[str, Any]]
    inconsistencies: list[Inconsistency]
    codes: dict[str, str] = Field(default_factory=dict)
    documents: list[Source] = Field(default_factory=list)
    application_flags: dict[str, str] = Field(default_factory=dict)

    def monitor(self, rule_id: str) -> MonitorRule:
        for rule in self.monitors:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


MonitorRule.model_rebuild()


def known_monitor_codes(extra: dict[str, str] | None = None) -> frozenset[str]:
    return STAGE_CODES | NOTICE_CODES | {FULL_PROCESS} | frozenset(extra or {})


def known_event_codes(extra: dict[str, str] | None = None) -> frozenset[str]:
    return STAGE_CODES | NOTICE_CODES | frozenset(extra or {})


__all__ = [
    "BUSINESS_TYPES",
    "LEVELS",
    "BusinessTypeRule",
    "Condition",
    "Duration",
    "EventSpec",
    "Inconsistency",
    "LeadRule",
    "MonitorRule",
    "PackFile",
    "PackHeader",
    "PackSettings",
    "PauseSpec",
    "RecipientLevel",
    "RecipientProfile",
    "ResolvedPolicy",
    "ResolvedSettings",
    "Source",
    "StageRule",
    "Superseded",
    "TooShortRule",
    "VariantRule",
    "WarningRules",
    "known_event_codes",
    "known_monitor_codes",
]
