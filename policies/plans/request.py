"""What the plan engine is asked: an application's profile plus where the customer is.

`PlanRequest` carries only what the rules read. It is built from the application profile
(`PlanRequest.from_profile`), which any object with the profile's attributes satisfies, so the
engine does not depend on where the profile model lives. A caller may pass a `location` that
wins over the profile's (the plan preview's body carries its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal, Protocol, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from calendars.zone import is_aware
from policies.codes import NEW_SERVICES, PERMIT_KINDS, VOLTAGES
from policies.plans.resources import Location


class ProfileLike(Protocol):
    """The application profile's attributes the plan reads."""

    @property
    def unit(self) -> str: ...
    @property
    def business_type(self) -> str: ...
    @property
    def voltage(self) -> str | None: ...
    @property
    def capacity_kva(self) -> float | None: ...
    @property
    def capacity_kw(self) -> float | None: ...
    @property
    def dual_power(self) -> bool: ...
    @property
    def important(self) -> bool: ...
    @property
    def small_micro(self) -> bool: ...
    @property
    def area(self) -> Literal["urban", "rural"] | None: ...
    @property
    def accepted_at(self) -> datetime: ...
    @property
    def outside_line_m(self) -> float | None: ...
    @property
    def flags(self) -> Sequence[str]: ...
    @property
    def location(self) -> Location | None: ...


class PlanRequest(BaseModel):
    """An application as the plan engine sees it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: str
    business_type: str
    #: The voltage the application was made at, if any: the engine decides its own and asks a
    #: person when the two differ.
    voltage: str | None = None
    capacity_kva: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    capacity_kw: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    dual_power: bool = False
    important: bool = False
    small_micro: bool = False
    area: Literal["urban", "rural"] | None = None
    accepted_at: datetime
    #: Where the customer's supply is wanted (WGS84). May be left out when `outside_line_m` is
    #: known: the plan then names no connection point.
    location: Location | None = None
    #: The outside line's length when already measured (site survey); otherwise estimated.
    outside_line_m: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    flags: tuple[str, ...] = ()
    #: The permits the outside line's route needs (掘路, 占道, 绿化), when staff know them.
    permits: tuple[str, ...] = ()

    @field_validator("business_type")
    @classmethod
    def _new_service(cls, value: str) -> str:
        if value not in NEW_SERVICES:
            raise ValueError(
                f"no supply plan for {value!r}: plans are made for new services and added "
                f"capacity ({', '.join(sorted(NEW_SERVICES))})"
            )
        return value

    @field_validator("voltage")
    @classmethod
    def _voltage(cls, value: str | None) -> str | None:
        if value is not None and value not in VOLTAGES:
            raise ValueError(f"unknown voltage {value!r}; allowed: {', '.join(sorted(VOLTAGES))}")
        return value

    @field_validator("permits")
    @classmethod
    def _permits(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - set(PERMIT_KINDS))
        if unknown:
            raise ValueError(
                f"unknown permit kind {unknown[0]!r}; allowed: {', '.join(PERMIT_KINDS)}"
            )
        return tuple(k for k in PERMIT_KINDS if k in value)

    @field_validator("accepted_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if not is_aware(value):
            raise ValueError("must carry a time zone offset, e.g. 2026-09-21T10:00:00+08:00")
        return value

    @model_validator(mode="after")
    def _enough(self) -> Self:
        if not (self.capacity_kva or self.capacity_kw):
            raise ValueError(
                "capacity_kva: a plan needs the capacity (capacity_kva or capacity_kw, above 0)"
            )
        if self.location is None and self.outside_line_m is None:
            raise ValueError("location: give the location, or outside_line_m when it is known")
        return self

    def accepted_on(self, timezone: str) -> date:
        """The acceptance date in the policy's zone (rules in force are chosen by it)."""
        return self.accepted_at.astimezone(ZoneInfo(timezone)).date()

    @classmethod
    def from_profile(
        cls,
        profile: ProfileLike,
        location: Location | None = None,
        outside_line_m: float | None = None,
        permits: tuple[str, ...] = (),
    ) -> PlanRequest:
        """The request for an application profile; `location` and `outside_line_m` given here
        win over the profile's; `permits`: the kinds staff named."""
        where = location if location is not None else profile.location
        length = outside_line_m if outside_line_m is not None else profile.outside_line_m
        return cls(
            unit=profile.unit,
            business_type=profile.business_type,
            voltage=profile.voltage,
            capacity_kva=profile.capacity_kva,
            capacity_kw=profile.capacity_kw,
            dual_power=profile.dual_power,
            important=profile.important,
            small_micro=profile.small_micro,
            area=profile.area,
            accepted_at=profile.accepted_at,
            location=_location(where),
            outside_line_m=length,
            flags=tuple(profile.flags),
            permits=permits,
        )


def _location(value: object) -> Location | None:
    # A subclass (a request body's stricter location) becomes the plain value the engine keys on.
    if value is None or type(value) is Location:
        return value
    if isinstance(value, dict):
        return Location.model_validate(value)
    return Location(lon=getattr(value, "lon"), lat=getattr(value, "lat"))  # noqa: B009
