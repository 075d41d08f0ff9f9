"""The grid near a customer, read from the grid tables: what the plan preview's grid provider
(`(unit, location, voltage) -> GridSnapshot`) answers once it reads the database.

The box read around the place is as wide as the longest route the unit's pack lets the plan
engine propose at that voltage (domain.grid.search_radius_km), so a point the engine could
choose is never left out. Without a place, the whole grid of the unit.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from domain.grid import policy_for_unit, search_radius_km, snapshot_of
from policies.plans.resources import GridSnapshot, Location
from readmodel.grid_reads import rows_near


class DatabaseGrid:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __call__(self, unit: str, location: Location | None, voltage: str | None) -> GridSnapshot:
        radius = search_radius_km(policy_for_unit(unit), voltage)
        with Session(self._engine) as session:
            if location is None:
                rows = rows_near(session, None, None, radius, unit, voltage)
            else:
                # Points anywhere in the unit's province: a customer near a county's border
                # may be nearest to its neighbour's point.
                rows = rows_near(
                    session, location.lon, location.lat, radius, _province(unit), voltage
                )
        return snapshot_of(rows)


def _province(unit: str) -> str:
    return unit.split("/", 1)[0]
