"""Open capacity (可开放容量): rated × the pack's loading limit − used − reserved, in kVA.

The grid API lists it per feeder and transformer, and the plan engine reads it for the point it
considers; both compute it here so they cannot disagree.
"""

from __future__ import annotations

from policies.plans.resources import ConnectionPoint, Feeder, GridSnapshot, Transformer
from policies.plans.rules import CapacityTable


def feeder_open_kva(feeder: Feeder, table: CapacityTable) -> float:
    return feeder.rated_kva * table.feeder_loading_limit - feeder.used_kva - feeder.reserved_kva


def transformer_open_kva(transformer: Transformer, table: CapacityTable) -> float:
    limit = transformer.rated_kva * table.transformer_loading_limit
    return limit - transformer.load_kva - transformer.reserved_kva


def carrier_of(point: ConnectionPoint) -> tuple[str, str] | None:
    """What a point's capacity is held on: ("transformer", id) for a low-voltage point,
    ("feeder", id) otherwise; None for a point hanging on nothing."""
    if point.transformer is not None:
        return "transformer", point.transformer
    if point.feeder is not None:
        return "feeder", point.feeder
    return None


def point_open_kva(snapshot: GridSnapshot, point: ConnectionPoint, table: CapacityTable) -> float:
    """The open capacity behind a point; 0 when what it hangs on is not in the snapshot (the
    engine never assumes capacity it cannot see)."""
    carrier = carrier_of(point)
    if carrier is None:
        return 0.0
    kind, ident = carrier
    if kind == "transformer":
        transformer = snapshot.transformers.get(ident)
        return 0.0 if transformer is None else transformer_open_kva(transformer, table)
    feeder = snapshot.feeders.get(ident)
    return 0.0 if feeder is None else feeder_open_kva(feeder, table)


def feeder_of(snapshot: GridSnapshot, point: ConnectionPoint) -> str | None:
    """The feeder a point is supplied from (a low-voltage point: its transformer's)."""
    if point.feeder is not None:
        return point.feeder
    if point.transformer is not None:
        transformer = snapshot.transformers.get(point.transformer)
        return None if transformer is None else transformer.feeder
    return None


def substation_of(snapshot: GridSnapshot, point: ConnectionPoint) -> str | None:
    feeder_id = feeder_of(snapshot, point)
    feeder = snapshot.feeders.get(feeder_id) if feeder_id is not None else None
    return None if feeder is None else feeder.substation
