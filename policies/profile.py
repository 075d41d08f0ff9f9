"""What an application is: the attributes its rules are selected by (one model for all).

The preview request, the create-application body, the workflow's start input and the engine all
take this model, so they cannot drift apart. Frozen: the engine keys its rule selections on these
values. Pure (codes checked against policies.codes, no file reads): the workflow sandbox
deserialises it. Checks that need the packs (is the unit known, is a flag declared) live in
`policies.preview.ProfileIn`, which the API's request bodies build on.

Its JSON shape is recorded in every workflow's start input: add fields with defaults, never
rename or remove one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from calendars.zone import is_aware
from policies.codes import (
    BUSINESS_TYPES,
    CHANNELS,
    DG_VARIANTS,
    SUPPORTING_WORKS_TYPES,
    UNIT_CODE_RE,
    VOLTAGES,
)
from policies.plans.resources import Location


def _member(codes: frozenset[str], what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in codes:
            raise ValueError(f"unknown {what} {value!r}; allowed: {', '.join(sorted(codes))}")
        return value

    return check


def _enum(codes: frozenset[str]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": sorted(codes)})


BusinessType = Annotated[
    str, AfterValidator(_member(BUSINESS_TYPES, "business type")), _enum(BUSINESS_TYPES)
]
Voltage = Annotated[str, AfterValidator(_member(VOLTAGES, "voltage")), _enum(VOLTAGES)]
Channel = Annotated[str, AfterValidator(_member(CHANNELS, "channel")), _enum(CHANNELS)]
SupportingWorksType = Annotated[
    str,
    AfterValidator(_member(SUPPORTING_WORKS_TYPES, "supporting-works type")),
    _enum(SUPPORTING_WORKS_TYPES),
]
DgVariant = Annotated[str, AfterValidator(_member(DG_VARIANTS, "DG variant")), _enum(DG_VARIANTS)]


_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?(?P<offset>[Zz]|[+-]\d\d:\d\d)?$")


def rfc3339(value: object) -> object:
    """Instants come as RFC 3339 text with an offset (the JSON Schema `date-time` format), or
    as datetimes: not as numbers or other spellings pydantic would also read."""
    if isinstance(value, datetime):
        return value
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if match is not None and match["offset"]:
        return value
    if match is not None:
        raise ValueError("must carry a time zone offset, e.g. 2026-09-21T10:00:00+08:00")
    raise ValueError(
        "must be an RFC 3339 date-time with its offset, e.g. 2026-09-21T10:00:00+08:00"
    )


#: An instant in a request or payload: RFC 3339 text with its offset.
Instant = Annotated[datetime, BeforeValidator(rfc3339)]


def require_aware(value: datetime | None) -> datetime | None:
    if value is not None and not is_aware(value):
        raise ValueError("must carry a time zone offset, e.g. 2026-09-21T10:00:00+08:00")
    return value


class GridWorks(BaseModel):
    """The supporting grid works (配套电网工程) an application needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: SupportingWorksType
    voltage: Voltage | None = None


class ApplicationProfile(BaseModel):
    """The attributes the policy engine decides on (DESIGN.md §4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: str = Field(description="Unit code, e.g. henan/sanmenxia (docs/glossary.md)")
    business_type: BusinessType
    voltage: Voltage | None = None
    capacity_kva: float | None = Field(default=None, ge=0)
    capacity_kw: float | None = Field(default=None, ge=0)
    dual_power: bool = False
    important: bool = False
    small_micro: bool = False
    area: Literal["urban", "rural"] | None = None
    grid_works: GridWorks | None = None
    channel: Channel = "counter"
    accepted_at: datetime
    dg_variant: DgVariant | None = None
    meter_change: bool | None = None
    outside_line_m: float | None = Field(default=None, ge=0)
    flags: tuple[str, ...] = ()
    #: Where the customer is (WGS84): the supply plan's nearest connection point is found from it.
    location: Location | None = None

    @field_validator("unit")
    @classmethod
    def _unit_code(cls, v: str) -> str:
        if not UNIT_CODE_RE.match(v):
            raise ValueError("must be a unit code like 'henan/sanmenxia' (lowercase, '/' between)")
        return v

    _aware = field_validator("accepted_at")(require_aware)
