"""The spatial index gives the order of a full scan; the demo grid is deterministic and has the
cases the engine must handle (restricted points, nearly full feeders and transformers)."""

from __future__ import annotations

import random
from itertools import islice

import pytest

from policies.loader import load_policy
from policies.plans.capacity import feeder_open_kva, transformer_open_kva
from policies.plans.demo_grid import DEMO_CENTRES, centre, demo_grid
from policies.plans.rules import plan_rules
from policies.plans.spatial import PointIndex, Scan, haversine_m


def test_haversine_against_a_known_distance() -> None:
    # One degree of latitude is 111.19 km on the mean sphere.
    assert haversine_m(111.2, 34.0, 111.2, 35.0) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(111.2, 34.77, 111.2, 34.77) == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_index_yields_the_order_of_a_full_scan(seed: int) -> None:
    grid = demo_grid("shanghai", points=3000, seed=seed)
    index, scan = PointIndex(grid.points), Scan(grid.points)
    rng = random.Random(seed)
    c = centre("shanghai")
    for _ in range(40):
        lon, lat = c.lon + rng.uniform(-0.2, 0.2), c.lat + rng.uniform(-0.2, 0.2)
        max_m = rng.choice((300.0, 2000.0, 15000.0))
        fast = [(round(d, 6), p.id) for d, p in islice(index.nearest(lon, lat, 100, max_m), 25)]
        slow = [(round(d, 6), p.id) for d, p in islice(scan.nearest(lon, lat, 100, max_m), 25)]
        assert fast == slow
        assert all(d <= max_m for d, _ in fast)


def test_index_within_is_exact_at_the_radius() -> None:
    grid = demo_grid("henan/sanmenxia", points=500)
    index = PointIndex(grid.points)
    c = centre("henan/sanmenxia")
    for radius in (100.0, 1000.0, 5000.0):
        found = {grid.points[i].id for _, i in index.within(c.lon, c.lat, radius)}
        expected = {
            p.id
            for p in grid.points
            if haversine_m(c.lon, c.lat, p.location.lon, p.location.lat) <= radius
        }
        assert found == expected


def test_an_empty_index_finds_nothing() -> None:
    assert list(PointIndex(()).nearest(121.0, 31.0, 100, 1000)) == []


def test_demo_grid_is_deterministic_and_sized() -> None:
    a, b = demo_grid("shandong/yantai"), demo_grid("shandong/yantai")
    assert a == b
    assert 150 <= len(a.points) <= 260
    assert demo_grid("shandong/yantai", seed=1) != a
    big = demo_grid("shandong/yantai", points=20000)
    assert 18000 <= len(big.points) <= 22000
    assert len({p.id for p in big.points}) == len(big.points)


@pytest.mark.parametrize("unit", sorted(DEMO_CENTRES))
def test_demo_grid_has_restricted_points_and_full_carriers(unit: str) -> None:
    grid = demo_grid(unit)
    table = plan_rules(load_policy(unit)).capacity
    assert any(p.restricted and p.restricted_reason for p in grid.points)
    assert any(feeder_open_kva(f, table) <= 0 for f in grid.feeders.values())
    assert any(transformer_open_kva(t, table) <= 0 for t in grid.transformers.values())
    assert {p.voltage for p in grid.points} == {"380V", "10kV", "35kV"}
    for p in grid.points:
        assert (p.feeder in grid.feeders) or (p.transformer in grid.transformers)
