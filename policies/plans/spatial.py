"""Connection points in order of distance from a customer: a spatial index over WGS84 points.

Distances are great-circle (haversine) metres. The index is shapely's STRtree over the points
in degrees; a query takes the points inside a box that contains the circle of the search
radius, keeps those within the radius and sorts them by (distance, position), widening the
radius until a caller is satisfied or the longest allowed route is reached. Within one radius
the answer is exact, so widening only appends: the order is that of a full scan.

`Scan` is the full scan (every point's distance, then a sort): the reference the index is
tested and benchmarked against.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Protocol

import numpy as np
import shapely
from numpy.typing import NDArray

from policies.plans.resources import ConnectionPoint, GridSnapshot
from policies.plans.rules import LV_VOLTAGES

EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0
#: Widens the box's longitude span for the change of cos(latitude) across it (radii are at most
#: tens of kilometres, where the change is well under 1 %).
_LON_MARGIN = 1.02


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def _haversine_many(
    lon: float, lat: float, lons: NDArray[np.float64], lats: NDArray[np.float64]
) -> NDArray[np.float64]:
    p1 = math.radians(lat)
    p2 = np.radians(lats)
    dl = np.radians(lons - lon)
    h = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    out: NDArray[np.float64] = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    return out


class PointFinder(Protocol):
    """Connection points within `max_m` of a place, nearest first (ties by position in the
    snapshot); only those at `voltage` (any low voltage for 220/380 V) when it is given."""

    def nearest(
        self, lon: float, lat: float, start_m: float, max_m: float, voltage: str | None = None
    ) -> Iterator[tuple[float, ConnectionPoint]]: ...


def voltage_class(voltage: str | None) -> str | None:
    """Low-voltage points serve 220 V and 380 V customers alike."""
    if voltage is None:
        return None
    return "lv" if voltage in LV_VOLTAGES else voltage


class _Subset:
    """The points of one voltage class: their positions in the snapshot and coordinates."""

    def __init__(self, points: Sequence[ConnectionPoint], cls: str | None) -> None:
        chosen = [i for i, p in enumerate(points) if cls is None or voltage_class(p.voltage) == cls]
        self.positions = np.array(chosen, dtype=np.intp)
        self.lons = np.array([points[i].location.lon for i in chosen], dtype=np.float64)
        self.lats = np.array([points[i].location.lat for i in chosen], dtype=np.float64)


class _Classes:
    """Subsets by voltage class, made on first use."""

    def __init__(self, points: Sequence[ConnectionPoint]) -> None:
        self.points: tuple[ConnectionPoint, ...] = tuple(points)
        self._subsets: dict[str | None, _Subset] = {}

    def subset(self, voltage: str | None) -> _Subset:
        cls = voltage_class(voltage)
        found = self._subsets.get(cls)
        if found is None:
            found = self._subsets[cls] = self._make(cls)
        return found

    def _make(self, cls: str | None) -> _Subset:
        return _Subset(self.points, cls)


class _TreeSubset(_Subset):
    def __init__(self, points: Sequence[ConnectionPoint], cls: str | None) -> None:
        super().__init__(points, cls)
        self.tree = shapely.STRtree(shapely.points(self.lons, self.lats))


class PointIndex(_Classes):
    """The connection points of one snapshot, searchable by distance: one STRtree per voltage
    class."""

    def _make(self, cls: str | None) -> _Subset:
        return _TreeSubset(self.points, cls)

    def within(
        self, lon: float, lat: float, radius_m: float, voltage: str | None = None
    ) -> list[tuple[float, int]]:
        """(distance m, position) of every point within `radius_m`, nearest first."""
        sub = self.subset(voltage)
        assert isinstance(sub, _TreeSubset)
        if sub.positions.size == 0:
            return []
        dlat = radius_m / _M_PER_DEG_LAT
        cos = max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
        dlon = min(180.0, dlat / cos * _LON_MARGIN)
        box = shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
        # A one-element array: a scalar query costs an expand_dims as much as the search.
        hits: NDArray[np.intp] = sub.tree.query(np.array([box]))[1]
        if hits.size == 0:
            return []
        dist = _haversine_many(lon, lat, sub.lons[hits], sub.lats[hits])
        keep = dist <= radius_m
        positions = sub.positions[hits[keep]]
        order = np.lexsort((positions, dist[keep]))
        return list(zip(dist[keep][order].tolist(), positions[order].tolist(), strict=True))

    def nearest(
        self, lon: float, lat: float, start_m: float, max_m: float, voltage: str | None = None
    ) -> Iterator[tuple[float, ConnectionPoint]]:
        """Points within `max_m`, nearest first; the radius doubles from `start_m` only as far
        as the caller keeps asking."""
        radius, given = min(start_m, max_m), 0
        while True:
            found = self.within(lon, lat, radius, voltage)
            for dist, pos in found[given:]:
                yield dist, self.points[pos]
            given = len(found)
            if radius >= max_m:
                return
            radius = min(radius * 2, max_m)


class Scan(_Classes):
    """The reference without an index: every point's distance (vectorised), then a full sort.
    Same arithmetic as the index, so both give the same order."""

    def nearest(
        self, lon: float, lat: float, start_m: float, max_m: float, voltage: str | None = None
    ) -> Iterator[tuple[float, ConnectionPoint]]:
        del start_m  # a scan has no radius to widen
        sub = self.subset(voltage)
        dist = _haversine_many(lon, lat, sub.lons, sub.lats)
        order = np.lexsort((sub.positions, dist))
        for i in order.tolist():
            d = float(dist[i])
            if d > max_m:
                return
            yield d, self.points[int(sub.positions[i])]


def index_of(snapshot: GridSnapshot) -> PointIndex:
    """A new index of a snapshot's points: a caller that searches one snapshot many times
    keeps it and passes it as the plan's `finder` (no process-wide cache)."""
    return PointIndex(snapshot.points)
