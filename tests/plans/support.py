"""Helpers for the plan tests: small hand-made grids placed in metres around an origin, and
requests built from a few fields."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from policies.loader import load_policy
from policies.plans.engine import plan
from policies.plans.plan import Plan
from policies.plans.request import PlanRequest
from policies.plans.resources import (
    ConnectionPoint,
    Feeder,
    GridSnapshot,
    Location,
    Substation,
    Transformer,
)
from policies.plans.spatial import EARTH_RADIUS_M

CST = timezone(timedelta(hours=8))
ACCEPTED = datetime(2026, 11, 16, 9, 0, tzinfo=CST)
ORIGIN = Location(lon=111.2, lat=34.77)


def at(east_m: float, north_m: float = 0.0, origin: Location = ORIGIN) -> Location:
    lat = origin.lat + math.degrees(north_m / EARTH_RADIUS_M)
    lon = origin.lon + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(origin.lat))))
    return Location(lon=lon, lat=lat)


@dataclass
class Grid:
    """A grid written point by point: feeders and transformers are made on first mention."""

    unit: str = "henan/sanmenxia"
    substations: dict[str, Substation] = field(default_factory=dict)
    feeders: dict[str, Feeder] = field(default_factory=dict)
    transformers: dict[str, Transformer] = field(default_factory=dict)
    points: list[ConnectionPoint] = field(default_factory=list)

    def sub(self, ident: str) -> str:
        if ident not in self.substations:
            self.substations[ident] = Substation(
                id=ident, name=ident, unit=self.unit, voltage="110kV", location=at(0, 5000)
            )
        return ident

    def feeder(
        self,
        ident: str,
        sub: str = "S1",
        rated: float = 10000,
        used: float = 0,
        voltage: str = "10kV",
    ) -> str:
        self.feeders[ident] = Feeder(
            id=ident,
            substation=self.sub(sub),
            unit=self.unit,
            voltage=voltage,
            rated_kva=rated,
            used_kva=used,
        )
        return ident

    def transformer(self, ident: str, feeder: str, rated: float = 400, load: float = 0) -> str:
        if feeder not in self.feeders:
            self.feeder(feeder)
        self.transformers[ident] = Transformer(
            id=ident, feeder=feeder, unit=self.unit, rated_kva=rated, load_kva=load
        )
        return ident

    def point(
        self,
        ident: str,
        east_m: float,
        north_m: float = 0.0,
        *,
        kind: str = "pole",
        voltage: str = "10kV",
        feeder: str | None = None,
        transformer: str | None = None,
        restricted: bool = False,
    ) -> None:
        if feeder is not None and feeder not in self.feeders:
            self.feeder(feeder)
        self.points.append(
            ConnectionPoint(
                id=ident,
                kind=kind,  # type: ignore[arg-type]
                unit=self.unit,
                voltage=voltage,
                location=at(east_m, north_m),
                feeder=feeder,
                transformer=transformer,
                restricted=restricted,
                restricted_reason="主变重载" if restricted else None,
            )
        )

    def snapshot(self) -> GridSnapshot:
        return GridSnapshot(
            substations=self.substations,
            feeders=self.feeders,
            transformers=self.transformers,
            points=tuple(self.points),
        )


def request(unit: str = "henan/sanmenxia", **fields: Any) -> PlanRequest:
    data: dict[str, Any] = {
        "unit": unit,
        "business_type": "hv",
        "voltage": "10kV",
        "capacity_kva": 630,
        "area": "urban",
        "accepted_at": ACCEPTED,
        "location": ORIGIN,
    }
    if "capacity_kw" in fields and "capacity_kva" not in fields:
        data["capacity_kva"] = None
    data.update(fields)
    return PlanRequest(**data)


def plan_for(grid: Grid | GridSnapshot, unit: str | None = None, **fields: Any) -> Plan:
    snapshot = grid.snapshot() if isinstance(grid, Grid) else grid
    unit = unit or (grid.unit if isinstance(grid, Grid) else "henan/sanmenxia")
    return plan(request(unit, **fields), snapshot, load_policy(unit))


def reason_codes(p: Plan) -> list[str]:
    return [r.code for r in p.reasons]


def point_ids(p: Plan) -> list[str]:
    return [s.connection_point.id for s in p.power_sources]


def lv_grid(unit: str = "henan/sanmenxia", east_m: float = 60) -> Grid:
    """One low-voltage pillar `east_m` away on a transformer with room, and a 10 kV pole."""
    g = Grid(unit=unit)
    g.transformer("T1", "F1", rated=630)
    g.point("LV1", east_m, kind="lv_pillar", voltage="380V", transformer="T1")
    g.point("P1", 80, kind="pole", feeder="F1")
    return g
