"""A deterministic demo grid: substations, feeders, transformers and connection points around a
unit's town, for the preview until the grid tables are read, for the tests and the benchmark.

The same unit, size and seed always give the same grid. Feeders run out of their substation in a
direction of their own with points along them; public transformers hang on the 10 kV feeders
with low-voltage points around them. Some feeders and transformers are nearly full (loaded
above the loading limit) and some points are on the restricted list, so every branch of the
engine is exercised.
"""

from __future__ import annotations

import math
import random
from functools import lru_cache

from policies.plans.resources import (
    ConnectionPoint,
    Feeder,
    GridSnapshot,
    Location,
    Substation,
    Transformer,
)
from policies.plans.spatial import EARTH_RADIUS_M

#: The town each unit's demo grid is centred on (lon, lat).
DEMO_CENTRES: dict[str, tuple[float, float]] = {
    "national": (116.397, 39.909),
    "henan": (113.625, 34.747),
    "henan/sanmenxia": (111.200, 34.773),
    "henan/xinyang/huangchuan": (115.051, 32.131),
    "shanghai": (121.473, 31.230),
    "jilin-local": (125.324, 43.817),
    "jilin-local/jingyu": (126.813, 42.389),
    "shandong/yantai": (121.448, 37.464),
}
_RESTRICTED_REASONS = (
    "主变重载 (substation transformer heavily loaded)",
    "线路走廊受限 (no corridor for a new line)",
    "规划改造中 (being rebuilt)",
)
_HV_KINDS = ("pole", "pole", "pole", "ring_main_unit", "branch_box", "switching_station")


def centre(unit: str) -> Location:
    lon, lat = DEMO_CENTRES.get(unit, DEMO_CENTRES["national"])
    return Location(lon=lon, lat=lat)


def _offset(origin: Location, east_m: float, north_m: float) -> Location:
    lat = origin.lat + math.degrees(north_m / EARTH_RADIUS_M)
    lon = origin.lon + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(origin.lat))))
    return Location(lon=round(lon, 6), lat=round(lat, 6))


class _Builder:
    def __init__(self, unit: str, points: int, seed: int) -> None:
        self.unit = unit
        self.rng = random.Random(f"{unit}:{points}:{seed}")
        self.target = points
        self.radius = 4000.0 * math.sqrt(max(points, 50) / 200)
        self.prefix = unit.rsplit("/", 1)[-1][:3].upper()
        self.substations: dict[str, Substation] = {}
        self.feeders: dict[str, Feeder] = {}
        self.transformers: dict[str, Transformer] = {}
        self.points: list[ConnectionPoint] = []

    def ident(self, kind: str, n: int) -> str:
        return f"{self.prefix}-{kind}{n:05d}"

    def point(self, kind: str, voltage: str, at: Location, **hangs: str) -> None:
        # One point in twenty is on the restricted list.
        restricted = len(self.points) % 20 == 7
        self.points.append(
            ConnectionPoint(
                id=self.ident("CP", len(self.points) + 1),
                kind=kind,  # type: ignore[arg-type]
                unit=self.unit,
                voltage=voltage,
                location=at,
                restricted=restricted,
                restricted_reason=self.rng.choice(_RESTRICTED_REASONS) if restricted else None,
                **hangs,
            )
        )

    def substation(self) -> Substation:
        rng, r = self.rng, self.radius * 0.6
        at = _offset(centre(self.unit), rng.uniform(-r, r), rng.uniform(-r, r))
        sub = Substation(
            id=self.ident("SS", len(self.substations) + 1),
            name=f"{self.prefix} {len(self.substations) + 1}号变电站",
            unit=self.unit,
            voltage="110kV",
            location=at,
        )
        self.substations[sub.id] = sub
        return sub

    def feeder(self, sub: Substation, voltage: str, rated: float) -> Feeder:
        # One 10 kV feeder in six is loaded beyond the loading limit: nothing open on it.
        full = voltage == "10kV" and len(self.feeders) % 6 == 5
        share = self.rng.uniform(0.82, 0.95) if full else self.rng.uniform(0.2, 0.7)
        fd = Feeder(
            id=self.ident("FD", len(self.feeders) + 1),
            substation=sub.id,
            unit=self.unit,
            voltage=voltage,
            rated_kva=rated,
            used_kva=round(rated * share, 1),
        )
        self.feeders[fd.id] = fd
        return fd

    def transformer(self, fd: Feeder) -> Transformer:
        rated = self.rng.choice((200.0, 400.0, 630.0))
        # One transformer in six is nearly full.
        full = len(self.transformers) % 6 == 5
        share = self.rng.uniform(0.82, 0.98) if full else self.rng.uniform(0.1, 0.6)
        tr = Transformer(
            id=self.ident("TR", len(self.transformers) + 1),
            feeder=fd.id,
            unit=self.unit,
            rated_kva=rated,
            load_kva=round(rated * share, 1),
        )
        self.transformers[tr.id] = tr
        return tr

    def lay_feeder(self, sub: Substation, n_hv: int, n_lv: int) -> None:
        """A 10 kV feeder from `sub` in a direction of its own: poles, ring-main units and
        the like along it, and public transformers with low-voltage points around them."""
        rng = self.rng
        fd = self.feeder(sub, "10kV", rng.choice((8000.0, 10000.0, 12000.0)))
        angle, length = rng.uniform(0, 2 * math.pi), self.radius * rng.uniform(0.4, 0.9)

        def along(jitter: float) -> Location:
            t = rng.uniform(0.05, 1.0) * length
            return _offset(
                sub.location,
                t * math.cos(angle) + rng.gauss(0, jitter),
                t * math.sin(angle) + rng.gauss(0, jitter),
            )

        self.point("substation_bay", "10kV", sub.location, feeder=fd.id)
        for _ in range(n_hv - 1):
            self.point(rng.choice(_HV_KINDS), "10kV", along(150.0), feeder=fd.id)
        per_tr = 5
        for i in range(0, n_lv, per_tr):
            tr, spot = self.transformer(fd), along(100.0)
            for _ in range(min(per_tr, n_lv - i)):
                kind = rng.choice(("lv_pillar", "lv_pillar", "meter_box"))
                near = _offset(spot, rng.gauss(0, 120.0), rng.gauss(0, 120.0))
                self.point(kind, "380V", near, transformer=tr.id)

    def build(self) -> GridSnapshot:
        feeders = max(6, self.target // 30)
        subs = [self.substation() for _ in range(max(3, feeders // 4))]
        for sub in subs:
            fd = self.feeder(sub, "35kV", 40000.0)
            self.point("substation_bay", "35kV", sub.location, feeder=fd.id)
        per_feeder = max(4, (self.target - len(subs)) // feeders)
        for i in range(feeders):
            self.lay_feeder(subs[i % len(subs)], per_feeder // 2, per_feeder - per_feeder // 2)
        return GridSnapshot(
            substations=self.substations,
            feeders=self.feeders,
            transformers=self.transformers,
            points=tuple(self.points),
        )


def demo_grid(unit: str, points: int = 200, seed: int = 0) -> GridSnapshot:
    """The demo grid of `unit` with about `points` connection points."""
    return _Builder(unit, points, seed).build()


@lru_cache(maxsize=16)
def _cached(unit: str) -> GridSnapshot:
    return demo_grid(unit)


def grid_snapshot_near(unit: str, location: Location | None, voltage: str | None) -> GridSnapshot:
    """The grid provider over the demo grid: the whole demo grid of the unit (about 200
    points, a town's worth). `location` and `voltage` narrow nothing here; a provider over the
    grid tables uses them to read only the nearby resources (None: every voltage, since the
    engine decides the access voltage itself)."""
    del location, voltage
    return _cached(unit)
