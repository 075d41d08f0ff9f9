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

import copy
import re
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic import Field as PydanticField
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from contracts.grid import HV_VOLTAGES, LV_VOLTAGES, POINT_KINDS, SUBSTATION_VOLTAGES
from contracts.organisation import MobileInput, UnitCode
from contracts.text import TEXT_PATTERN, Label, Line, check_text

#: Ids of grid resources: the asset numbers operators already use (e.g. `SMX-F012`).
RESOURCE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
ALL_VOLTAGES = HV_VOLTAGES | LV_VOLTAGES
#: Above any single feeder or transformer (10 GVA): also keeps infinity out of the sums.
MAX_KVA = 10_000_000


def _resource_id(v: str) -> str:
    if not RESOURCE_ID_RE.fullmatch(v):
        raise ValueError("letters, digits, '_', '.', '-'; up to 64; e.g. SMX-F012")
    return v


def _one_of(allowed: frozenset[str] | tuple[str, ...]) -> AfterValidator:
    def check(v: str) -> str:
        if v not in allowed:
            raise ValueError(f"must be one of {', '.join(sorted(allowed))}")
        return v

    return AfterValidator(check)


def _enum(allowed: frozenset[str] | tuple[str, ...]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": sorted(allowed)})


# The input checks as types, each stated in the schema as well (so that a client, or a fuzzer,
# reading the OpenAPI knows what is accepted). Rows and answers carry plain strings.
ResourceId = Annotated[
    str,
    PydanticField(max_length=64, json_schema_extra={"pattern": RESOURCE_ID_RE.pattern}),
    AfterValidator(_resource_id),
]
SubstationVoltage = Annotated[str, _one_of(SUBSTATION_VOLTAGES), _enum(SUBSTATION_VOLTAGES)]
FeederVoltage = Annotated[str, _one_of(HV_VOLTAGES), _enum(HV_VOLTAGES)]
PointVoltage = Annotated[str, _one_of(ALL_VOLTAGES), _enum(ALL_VOLTAGES)]
PointKindCode = Annotated[str, _one_of(POINT_KINDS), _enum(POINT_KINDS)]
#: Why a point is restricted: free text (line breaks allowed), as the column holds it.
RestrictedReason = Annotated[
    str,
    PydanticField(min_length=1, max_length=300, json_schema_extra={"pattern": TEXT_PATTERN}),
    AfterValidator(check_text),
]


class _Input(SQLModel):
    """Inputs refuse fields they do not know, so a misspelt column is an error, not lost.
    Strict: a JSON body's numbers and booleans are not read from strings (a CSV import's cells
    are validated with `strict=False`: there every value is text)."""

    model_config = ConfigDict(extra="forbid", strict=True)  # type: ignore[assignment]


def patch_model(create: type[BaseModel], name: str) -> type[BaseModel]:
    """The PATCH body of a kind: every field of its create model but `id`, each optional.
    A field left out keeps its stored value; only a field that may be null can be set to
    null. The merged row is then checked as a new one (`create`)."""
    fields: dict[str, Any] = {}
    for field_name, info in create.model_fields.items():
        if field_name == "id":
            continue
        optional = copy.copy(info)
        optional.default = None
        optional.default_factory = None
        fields[field_name] = (info.annotation, optional)
    model: type[BaseModel] = create_model(
        name,
        __config__=ConfigDict(extra="forbid", strict=True),
        __doc__=f"Any of the fields of {create.__name__} but `id`; those left out are kept.",
        **fields,
    )
    return model


class _Located(SQLModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


# --------------------------------------------------------------------------- substations


class SubstationBase(_Located):
    name: str = Field(min_length=1, max_length=200)
    unit: str = Field(index=True, max_length=128, foreign_key="org_unit.code")
    #: The highest voltage of the substation (110kV, 35kV, ...).
    voltage: str = Field(max_length=16)


class SubstationCreate(SubstationBase, _Input):
    id: ResourceId
    name: Line
    unit: UnitCode
    voltage: SubstationVoltage


SubstationUpdate = patch_model(SubstationCreate, "SubstationUpdate")


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


class FeederCreate(FeederBase, _Input):
    id: ResourceId
    name: Label = ""
    substation: ResourceId
    unit: UnitCode
    voltage: FeederVoltage


FeederUpdate = patch_model(FeederCreate, "FeederUpdate")


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


def _both_or_neither(first: str, second: str) -> dict[str, Any]:
    """The schema of "give both fields, or neither" (a null counts as not given)."""

    def given(name: str) -> dict[str, Any]:
        return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}

    return {
        "allOf": [
            {"if": given(first), "then": given(second)},
            {"if": given(second), "then": given(first)},
        ]
    }


class TransformerCreate(TransformerBase, _Input):
    model_config = ConfigDict(json_schema_extra=_both_or_neither("lon", "lat"))

    id: ResourceId
    name: Label = ""
    feeder: ResourceId
    unit: UnitCode

    @model_validator(mode="after")
    def _both_coordinates(self) -> Self:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lat: give both lon and lat, or neither")
        return self


TransformerUpdate = patch_model(TransformerCreate, "TransformerUpdate")


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


def _point_schema() -> dict[str, Any]:
    """The checks of `ConnectionPointCreate._consistent`, for clients and fuzzers."""
    on_transformer = {
        "required": ["transformer"],
        "properties": {"transformer": {"not": {"type": "null"}}},
    }
    restricted = {"required": ["restricted"], "properties": {"restricted": {"const": True}}}
    return {
        "allOf": [
            {
                "if": on_transformer,
                "then": {
                    "properties": {
                        "voltage": {"enum": sorted(LV_VOLTAGES)},
                        "feeder": {"type": "null"},
                    }
                },
                "else": {
                    "required": ["feeder"],
                    "properties": {
                        "voltage": {"enum": sorted(HV_VOLTAGES)},
                        "feeder": {"type": "string"},
                    },
                },
            },
            {
                "if": restricted,
                "then": {
                    "required": ["restricted_reason"],
                    # Not blank: a non-space character somewhere.
                    "properties": {"restricted_reason": {"type": "string", "pattern": "\\S"}},
                },
            },
        ]
    }


class ConnectionPointCreate(ConnectionPointBase, _Input):
    model_config = ConfigDict(json_schema_extra=_point_schema())

    id: ResourceId
    kind: PointKindCode
    name: Label = ""
    unit: UnitCode
    voltage: PointVoltage
    feeder: ResourceId | None = None
    transformer: ResourceId | None = None
    restricted_reason: RestrictedReason | None = None

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


ConnectionPointUpdate = patch_model(ConnectionPointCreate, "ConnectionPointUpdate")


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


class GridCustomerCreate(GridCustomerBase, _Input):
    #: The customer number (户号).
    id: ResourceId
    feeder: ResourceId
    transformer: ResourceId | None = None
    name: Line
    phone: MobileInput | None = None


GridCustomerUpdate = patch_model(GridCustomerCreate, "GridCustomerUpdate")


class GridCustomerRow(GridCustomerBase, table=True):
    __tablename__ = "grid_customer"

    id: str = Field(primary_key=True, max_length=64)


class GridCustomerPublic(GridCustomerBase):
    id: str
