"""Grid rows as the plan engine's values, and the open capacity of feeders and transformers.

The read model may not import policies, and the plan engine may not read a database, so the
conversion sits here, between them: it takes anything with the rows' fields (the table classes
of readmodel.grid satisfy the protocols below) and returns `policies.plans.resources` values.
Both the API and the activities call it.

The loading limit is the plan engine's pack parameter, `[params.plan_capacity]` with
`feeder_loading_limit` and `transformer_loading_limit` (fractions of the rated capacity), so the
open capacity listed here and the one the engine plans with cannot disagree. Where no pack in
the chain sets it, the project default below applies (docs/grid.md, "Open capacity").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Protocol

from pydantic import BaseModel

from contracts.grid import OpenCapacity, ResourceKind, open_kva
from contracts.organisation import unit_chain
from policies.loader import list_units, load_policy
from policies.plans.resources import (
    ConnectionPoint,
    Feeder,
    GridSnapshot,
    Location,
    Substation,
    Transformer,
)
from policies.schema import ResolvedPolicy, Source

#: The documents are silent on how far a feeder or transformer may be loaded before it counts
#: as full. 80 % of the rated capacity is the heavy-load (重载) line that distribution
#: operations commonly draw: a plan that loads a resource past it leaves no room for the
#: load's growth or for taking over a neighbour's load when a line is switched.
DEFAULT_LOADING_LIMIT = 0.8
DEFAULT_LOADING_LIMIT_SOURCE = (
    "docs/grid.md Open capacity (project default: 80 % of rated, the heavy-load line)"
)


class LoadingLimit(BaseModel):
    value: float
    source: str


CAPACITY_TABLE = "plan_capacity"


def loading_limit(policy: ResolvedPolicy, kind: ResourceKind) -> LoadingLimit:
    """The fraction of a feeder's or transformer's rated capacity that plans may fill."""
    table = policy.params.get(CAPACITY_TABLE)
    key = f"{kind}_loading_limit"
    if table is not None and key in table:
        value = float(table[key])
        if not 0 < value <= 1:
            raise ValueError(f"params.{CAPACITY_TABLE}.{key}: must be in (0, 1], not {value}")
        return LoadingLimit(value=value, source=Source.model_validate(table["source"]).cite())
    return LoadingLimit(value=DEFAULT_LOADING_LIMIT, source=DEFAULT_LOADING_LIMIT_SOURCE)


#: How far around a customer the grid is read when the pack's routing table does not say:
#: the 10 kV supply radius of the distribution-planning guide (15 km of route).
DEFAULT_SEARCH_RADIUS_KM = 15.0
ROUTING_TABLE = "plan_routing"


def search_radius_km(policy: ResolvedPolicy, voltage: str | None) -> float:
    """The radius of the box read around a customer: the longest route the plan engine would
    propose at `voltage` (`[params.plan_routing] max_route_m`); a straight line is never longer
    than its route. With no voltage, the 10 kV radius: the access voltage of most plans that
    need a snapshot (a 35 kV plan asks with its voltage)."""
    table = policy.params.get(ROUTING_TABLE) or {}
    by_voltage = table.get("max_route_m") or {}
    metres = by_voltage.get(voltage or "10kV")
    return float(metres) / 1000 if metres else DEFAULT_SEARCH_RADIUS_KM


@cache
def _units_with_packs() -> frozenset[str]:
    return frozenset(list_units())


def policy_for_unit(unit: str) -> ResolvedPolicy:
    """The policy of the nearest unit with a pack (a county or a supply station usually has
    none of its own); the national pack when no ancestor has one."""
    packs = _units_with_packs()
    for u in unit_chain(unit):
        if u in packs:
            return load_policy(u)
    return load_policy("national")


def limit_for_unit(unit: str, kind: ResourceKind) -> LoadingLimit:
    return loading_limit(policy_for_unit(unit), kind)


# --------------------------------------------------------------------------- row shapes


class SubstationFields(Protocol):
    id: str
    name: str
    unit: str
    voltage: str
    lon: float
    lat: float


class FeederFields(Protocol):
    id: str
    name: str
    substation: str
    unit: str
    voltage: str
    rated_kva: float
    used_kva: float


class TransformerFields(Protocol):
    id: str
    name: str
    feeder: str
    unit: str
    rated_kva: float
    load_kva: float


class PointFields(Protocol):
    id: str
    kind: str
    unit: str
    voltage: str
    lon: float
    lat: float
    feeder: str | None
    transformer: str | None
    restricted: bool
    restricted_reason: str | None


# --------------------------------------------------------------------------- conversions


def substation_value(row: SubstationFields) -> Substation:
    return Substation(
        id=row.id,
        name=row.name,
        unit=row.unit,
        voltage=row.voltage,
        location=Location(lon=row.lon, lat=row.lat),
    )


def feeder_value(row: FeederFields, reserved_kva: float = 0.0) -> Feeder:
    return Feeder(
        id=row.id,
        substation=row.substation,
        unit=row.unit,
        voltage=row.voltage,
        rated_kva=row.rated_kva,
        used_kva=row.used_kva,
        reserved_kva=reserved_kva,
    )


def transformer_value(row: TransformerFields, reserved_kva: float = 0.0) -> Transformer:
    return Transformer(
        id=row.id,
        feeder=row.feeder,
        unit=row.unit,
        rated_kva=row.rated_kva,
        load_kva=row.load_kva,
        reserved_kva=reserved_kva,
    )


def point_value(row: PointFields) -> ConnectionPoint:
    return ConnectionPoint(
        id=row.id,
        kind=row.kind,  # type: ignore[arg-type]
        unit=row.unit,
        voltage=row.voltage,
        location=Location(lon=row.lon, lat=row.lat),
        feeder=row.feeder,
        transformer=row.transformer,
        restricted=row.restricted,
        restricted_reason=row.restricted_reason,
    )


class NearbyFields(Protocol):
    """The rows read near a place (readmodel.grid_reads.NearbyRows)."""

    @property
    def substations(self) -> Sequence[SubstationFields]: ...
    @property
    def feeders(self) -> Sequence[FeederFields]: ...
    @property
    def transformers(self) -> Sequence[TransformerFields]: ...
    @property
    def points(self) -> Sequence[PointFields]: ...
    @property
    def held(self) -> Mapping[str, Mapping[str, float]]: ...


def snapshot_of(rows: NearbyFields) -> GridSnapshot:
    held = {"feeder": rows.held.get("feeder", {}), "transformer": rows.held.get("transformer", {})}
    return snapshot(rows.substations, rows.feeders, rows.transformers, rows.points, held)  # type: ignore[arg-type]


def snapshot(
    substations: Iterable[SubstationFields],
    feeders: Iterable[FeederFields],
    transformers: Iterable[TransformerFields],
    points: Iterable[PointFields],
    held: Mapping[ResourceKind, Mapping[str, float]] | None = None,
) -> GridSnapshot:
    """The plan engine's view of the rows read at one instant; `held` is what reservations
    hold per kind and resource id (readmodel.reservations.held_kva)."""
    held = held or {}
    feeder_held = held.get("feeder", {})
    transformer_held = held.get("transformer", {})
    return GridSnapshot(
        substations={s.id: substation_value(s) for s in substations},
        feeders={f.id: feeder_value(f, feeder_held.get(f.id, 0.0)) for f in feeders},
        transformers={
            t.id: transformer_value(t, transformer_held.get(t.id, 0.0)) for t in transformers
        },
        points=tuple(point_value(p) for p in sorted(points, key=lambda p: p.id)),
    )


# --------------------------------------------------------------------------- open capacity


def feeder_capacity(row: FeederFields, reserved_kva: float, limit: LoadingLimit) -> OpenCapacity:
    return OpenCapacity(
        kind="feeder",
        id=row.id,
        name=row.name,
        unit=row.unit,
        voltage=row.voltage,
        parent=row.substation,
        rated_kva=row.rated_kva,
        used_kva=row.used_kva,
        reserved_kva=reserved_kva,
        loading_limit=limit.value,
        loading_limit_source=limit.source,
        open_kva=open_kva(row.rated_kva, limit.value, row.used_kva, reserved_kva),
    )


def transformer_capacity(
    row: TransformerFields, reserved_kva: float, limit: LoadingLimit
) -> OpenCapacity:
    return OpenCapacity(
        kind="transformer",
        id=row.id,
        name=row.name,
        unit=row.unit,
        voltage="380V",
        parent=row.feeder,
        rated_kva=row.rated_kva,
        used_kva=row.load_kva,
        reserved_kva=reserved_kva,
        loading_limit=limit.value,
        loading_limit_source=limit.source,
        open_kva=open_kva(row.rated_kva, limit.value, row.load_kva, reserved_kva),
    )
