"""Grid resources as reference data: substations, feeders, public distribution transformers
(台区), connection points and the customers each feeder supplies.

Each kind comes as a family, as in the FastAPI template: `...Base` (shared fields), `...Create`
(an input, with its id and its checks), `...Update` (every field optional), the table `...Row`
and the answer `...Public`. Capacities are in kVA; coordinates are WGS84 degrees.

Customer names and phones are personal data: they live in `grid_customer` and the API's grid
endpoints, never in logs at INFO, search attributes or error messages (which is why the input
checks below never quote a value back).
"""

from __future__ import annotations

import re
from typing import Any, Self

from pydantic import ConfigDict, field_validator, model_validator
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from contracts.grid import HV_VOLTAGES, LV_VOLTAGES, POINT_KINDS, SUBSTATION_VOLTAGES
from contracts.organisation import UNIT_CODE_RE, normalize_mobile

#: Ids of grid resources: the asset numbers operators already use (e.g. `SMX-F012`).
RESOURCE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
ALL_VOLTAGES = HV_VOLTAGES | LV_VOLTAGES
#: Above any single feeder or transformer (10 GVA): also keeps infinity out of the sums.
MAX_KVA = 10_000_000


def _resource_id(v: str) -> str:
    if not RESOURCE_ID_RE.match(v):
        raise ValueError("letters, digits, '_', '.', '-'; up to 64; e.g. SMX-F012")
    return v


def _unit(v: str) -> str:
    if not UNIT_CODE_RE.match(v):
        raise ValueError("must be a unit code like 'henan/sanmenxia'")
    return v


def _one_of(allowed: frozenset[str] | tuple[str, ...]) -> Any:
    def check(v: str) -> str:
        if v not in allowed:
            raise ValueError(f"must be one of {', '.join(sorted(allowed))}")
        return v

    return check


class _Input(SQLModel):
    """Inputs refuse fields they do not know, so a misspelt column is an error, not lost."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]


class _Located(SQLModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


# --------------------------------------------------------------------------- substations


class SubstationBase(_Located):
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(index=True, max_length=128, foreign_key="org_unit.code")
    #: The highest voltage of the substation (110kV, 35kV, ...).
    voltage: str = Field(max_length=16)

    _u = field_validator("unit")(_unit)
    _v = field_validator("voltage")(_one_of(SUBSTATION_VOLTAGES))


class SubstationCreate(SubstationBase, _Input):
    id: str = Field(max_length=64)
    _id = field_validator("id")(_resource_id)


class SubstationUpdate(_Input):
    name: str | None = None
    unit: str | None = None
    voltage: str | None = None
    lon: float | None = None
    lat: float | None = None


class SubstationRow(SubstationBase, table=True):
    __tablename__ = "grid_substation"

    id: str = Field(primary_key=True, max_length=64)


class SubstationPublic(SubstationBase):
    id: str


# --------------------------------------------------------------------------- feeders


class FeederBase(SQLModel):
    name: str = Field(default="", max_length=200)
    substation: str = Field(index=True, max_length=64, foreign_key="grid_substation.id")
    unit: str = Field(index=True, max_length=128, foreign_key="org_unit.code")
    #: 10kV, or 35kV and above.
    voltage: str = Field(index=True, max_length=16)
    rated_kva: float = Field(gt=0, le=MAX_KVA)
    #: The load already connected (its peak, as operations measures it).
    used_kva: float = Field(ge=0, le=MAX_KVA)

    _u = field_validator("unit")(_unit)
    _s = field_validator("substation")(_resource_id)
    _v = field_validator("voltage")(_one_of(HV_VOLTAGES))


class FeederCreate(FeederBase, _Input):
    id: str = Field(max_length=64)
    _id = field_validator("id")(_resource_id)


class FeederUpdate(_Input):
    name: str | None = None
    substation: str | None = None
    unit: str | None = None
    voltage: str | None = None
    rated_kva: float | None = None
    used_kva: float | None = None


class FeederRow(FeederBase, table=True):
    __tablename__ = "grid_feeder"

    id: str = Field(primary_key=True, max_length=64)


class FeederPublic(FeederBase):
    id: str


# --------------------------------------------------------------------------- transformers


class TransformerBase(SQLModel):
    """A public distribution transformer (公用配变, its area 台区), supplying low voltage."""

    name: str = Field(default="", max_length=200)
    feeder: str = Field(index=True, max_length=64, foreign_key="grid_feeder.id")
    unit: str = Field(index=True, max_length=128, foreign_key="org_unit.code")
    rated_kva: float = Field(gt=0, le=MAX_KVA)
    load_kva: float = Field(ge=0, le=MAX_KVA)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)

    _u = field_validator("unit")(_unit)
    _f = field_validator("feeder")(_resource_id)


class TransformerCreate(TransformerBase, _Input):
    id: str = Field(max_length=64)
    _id = field_validator("id")(_resource_id)

    @model_validator(mode="after")
    def _both_coordinates(self) -> Self:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lat: give both lon and lat, or neither")
        return self


class TransformerUpdate(_Input):
    name: str | None = None
    feeder: str | None = None
    unit: str | None = None
    rated_kva: float | None = None
    load_kva: float | None = None
    lon: float | None = None
    lat: float | None = None


class TransformerRow(TransformerBase, table=True):
    __tablename__ = "grid_transformer"

    id: str = Field(primary_key=True, max_length=64)


class TransformerPublic(TransformerBase):
    id: str


# --------------------------------------------------------------------------- connection points


class ConnectionPointBase(_Located):
    """Where a customer's line can join the public grid: on a feeder (high voltage) or on a
    transformer (low voltage)."""

    kind: str = Field(max_length=32)
    name: str = Field(default="", max_length=200)
    unit: str = Field(index=True, max_length=128, foreign_key="org_unit.code")
    voltage: str = Field(index=True, max_length=16)
    feeder: str | None = Field(
        default=None, index=True, max_length=64, foreign_key="grid_feeder.id"
    )
    transformer: str | None = Field(
        default=None, index=True, max_length=64, foreign_key="grid_transformer.id"
    )
    #: On the restricted list (电网受限负面清单): the plan engine skips it.
    restricted: bool = Field(default=False, index=True)
    restricted_reason: str | None = Field(default=None, max_length=300)

    _k = field_validator("kind")(_one_of(POINT_KINDS))
    _u = field_validator("unit")(_unit)
    _v = field_validator("voltage")(_one_of(ALL_VOLTAGES))


class ConnectionPointCreate(ConnectionPointBase, _Input):
    id: str = Field(max_length=64)
    _id = field_validator("id")(_resource_id)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.feeder is None) == (self.transformer is None):
            raise ValueError("feeder: give the feeder or the transformer it hangs on (one)")
        if self.transformer is not None and self.voltage not in LV_VOLTAGES:
            raise ValueError("voltage: a point on a transformer is low voltage (380V or 220V)")
        if self.feeder is not None and self.voltage not in HV_VOLTAGES:
            raise ValueError("voltage: a point on a feeder is high voltage (the feeder's)")
        if self.restricted and not (self.restricted_reason or "").strip():
            raise ValueError("restricted_reason: a restricted point needs its reason")
        if not self.restricted:
            self.restricted_reason = None
        return self


class ConnectionPointUpdate(_Input):
    kind: str | None = None
    name: str | None = None
    unit: str | None = None
    voltage: str | None = None
    lon: float | None = None
    lat: float | None = None
    feeder: str | None = None
    transformer: str | None = None
    restricted: bool | None = None
    restricted_reason: str | None = None


class ConnectionPointRow(ConnectionPointBase, table=True):
    __tablename__ = "grid_connection_point"
    # The points near an application are read by a box of latitude and longitude.
    __table_args__ = (Index("ix_grid_connection_point_lat_lon", "lat", "lon"),)

    id: str = Field(primary_key=True, max_length=64)


class ConnectionPointPublic(ConnectionPointBase):
    id: str


# --------------------------------------------------------------------------- customers


class GridCustomerBase(SQLModel):
    """A customer supplied from a feeder (and a transformer, for low-voltage customers): who
    loses supply when the feeder is switched off."""

    feeder: str = Field(index=True, max_length=64, foreign_key="grid_feeder.id")
    transformer: str | None = Field(
        default=None, index=True, max_length=64, foreign_key="grid_transformer.id"
    )
    name: str = Field(min_length=1, max_length=200)
    #: Where outage notices go; a mainland mobile number, stored as its 11 digits.
    phone: str | None = Field(default=None, max_length=11)

    _f = field_validator("feeder")(_resource_id)

    # Before the length check: "+86 138 0000 0000" is a valid way to write 11 digits.
    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, v: Any) -> str | None:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        if not isinstance(v, str):
            raise ValueError("must be a string of digits")
        return normalize_mobile(v)


class GridCustomerCreate(GridCustomerBase, _Input):
    #: The customer number (户号).
    id: str = Field(max_length=64)
    _id = field_validator("id")(_resource_id)


class GridCustomerUpdate(_Input):
    feeder: str | None = None
    transformer: str | None = None
    name: str | None = None
    phone: str | None = None


class GridCustomerRow(GridCustomerBase, table=True):
    __tablename__ = "grid_customer"

    id: str = Field(primary_key=True, max_length=64)


class GridCustomerPublic(GridCustomerBase):
    id: str
