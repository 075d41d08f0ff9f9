"""What an application is: the attributes its rules are selected by (one model for all).

The preview request, the create-application body and the workflow's start input all carry this
model, so they cannot drift apart. Pure (codes checked against policies.codes, no file reads):
the workflow sandbox deserialises it. Checks that need the packs (is the unit known, is a flag
declared) live in `ProfileIn`, which the API's request bodies build on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from calendars.zone import is_aware
from policies.codes import (
    BUSINESS_TYPES,
    CHANNELS,
    DG_VARIANTS,
    SUPPORTING_WORKS_TYPES,
    UNIT_CODE_RE,
    VOLTAGES,
)
from policies.engine import Application
from policies.engine import GridWorks as EngineGridWorks


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


def require_aware(value: datetime | None) -> datetime | None:
    if value is not None and not is_aware(value):
        raise ValueError("must carry a time zone offset, e.g. 2026-09-21T10:00:00+08:00")
    return value


class GridWorks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: SupportingWorksType
    voltage: Voltage | None = None


class ApplicationProfile(BaseModel):
    """The attributes the policy engine decides on (DESIGN.md §4)."""

    model_config = ConfigDict(extra="forbid")

    unit: str = Field(description="Unit code, e.g. henan/sanmenxia (GLOSSARY.md)")
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
    flags: list[str] = Field(default_factory=list)

    @field_validator("unit")
    @classmethod
    def _unit_code(cls, v: str) -> str:
        if not UNIT_CODE_RE.match(v):
            raise ValueError("must be a unit code like 'henan/sanmenxia' (lowercase, '/' between)")
        return v

    _aware = field_validator("accepted_at")(require_aware)

    def to_engine(self) -> Application:
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
                EngineGridWorks(type=self.grid_works.type, voltage=self.grid_works.voltage)
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
