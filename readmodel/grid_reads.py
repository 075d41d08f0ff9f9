"""Reading the grid near a place: the rows a plan needs, in one consistent read.

The plan engine takes a snapshot of the resources near an application (domain.grid.snapshot
turns these rows into its values); the points are found by a box of latitude and longitude
around the place, and the feeders, transformers and substations they hang on come with them,
with what reservations hold on each.
"""

from __future__ import annotations

import math
from typing import NamedTuple, TypeVar

from sqlmodel import Session, col, or_, select

from readmodel.grid import ConnectionPointRow, FeederRow, SubstationRow, TransformerRow
from readmodel.reservations import held_kva

KM_PER_DEGREE_LAT = 111.0


class NearbyRows(NamedTuple):
    substations: list[SubstationRow]
    feeders: list[FeederRow]
    transformers: list[TransformerRow]
    points: list[ConnectionPointRow]
    #: What reservations hold, by kind ("feeder", "transformer") and resource id.
    held: dict[str, dict[str, float]]


def rows_near(
    session: Session,
    lon: float | None,
    lat: float | None,
    radius_km: float,
    unit: str | None = None,
    voltage: str | None = None,
) -> NearbyRows:
    """The connection points within the box of `radius_km` around (lon, lat) (of `unit` and
    the units under it, and at `voltage`, when given), and every resource they hang on.
    Without a place, every point of the unit."""
    p = ConnectionPointRow
    query = select(p)
    if lon is not None and lat is not None:
        dlat = radius_km / KM_PER_DEGREE_LAT
        dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
        query = query.where(
            col(p.lat).between(lat - dlat, lat + dlat), col(p.lon).between(lon - dlon, lon + dlon)
        )
    if unit is not None:
        query = query.where(or_(col(p.unit) == unit, col(p.unit).startswith(f"{unit}/")))
    if voltage is not None:
        query = query.where(col(p.voltage) == voltage)
    points = list(session.exec(query.order_by(col(p.id))).all())
    transformer_ids = sorted({pt.transformer for pt in points if pt.transformer})
    transformers = _by_ids(session, TransformerRow, transformer_ids)
    feeder_ids = sorted(
        {pt.feeder for pt in points if pt.feeder} | {t.feeder for t in transformers}
    )
    feeders = _by_ids(session, FeederRow, feeder_ids)
    substations = _by_ids(session, SubstationRow, sorted({f.substation for f in feeders}))
    conn = session.connection()
    held = {
        "feeder": held_kva(conn, "feeder", feeder_ids),
        "transformer": held_kva(conn, "transformer", transformer_ids),
    }
    return NearbyRows(substations, feeders, transformers, points, held)


R = TypeVar("R", SubstationRow, FeederRow, TransformerRow)


def _by_ids(session: Session, table: type[R], ids: list[str]) -> list[R]:
    out: list[R] = []
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        out += session.exec(select(table).where(col(table.id).in_(part))).all()
    return sorted(out, key=lambda r: r.id)
