"""The grid activities on the demo grid: the snapshot near a place, and reservations with the
loading limit of the resource's own pack; and the plan preview's grid provider over the tables."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import Engine
from temporalio.testing import ActivityEnvironment

from activities.grid import GridActivities
from api.grid_provider import DatabaseGrid
from contracts.grid import ReleaseRequest, ReserveRequest, ResourceRef, SnapshotRequest
from domain.grid import DEFAULT_SEARCH_RADIUS_KM, policy_for_unit, search_radius_km
from policies.loader import load_policy
from policies.plans.resources import Location
from readmodel.demo_grid import seed_demo_grid
from readmodel.demo_org import seed_demo_org

SANMENXIA = Location(lon=111.2, lat=34.77)


@pytest.fixture
def acts(db_engine: Engine) -> GridActivities:
    seed_demo_org(db_engine)
    seed_demo_grid(db_engine)
    return GridActivities(db_engine)


def km(a: Location, b: Location) -> float:
    dy = (a.lat - b.lat) * 111.0
    dx = (a.lon - b.lon) * 111.0 * math.cos(math.radians(a.lat))
    return math.hypot(dx, dy)


def test_the_snapshot_holds_the_points_nearby_and_what_they_hang_on(acts: GridActivities) -> None:
    env = ActivityEnvironment()
    snap = env.run(acts.grid_snapshot, SnapshotRequest(location=SANMENXIA, radius_km=3))
    assert len(snap.points) >= 20
    # A box of ±3 km: nothing further than its corner.
    assert all(km(p.location, SANMENXIA) <= 3 * math.sqrt(2) + 0.01 for p in snap.points)
    assert not any(p.unit.startswith("henan/xinyang") for p in snap.points)
    for p in snap.points:
        feeder = p.feeder or snap.transformers[p.transformer or ""].feeder
        assert snap.feeders[feeder].substation in snap.substations
    assert any(p.restricted for p in snap.points)
    far = env.run(
        acts.grid_snapshot,
        SnapshotRequest(location=Location(lon=100.0, lat=30.0), radius_km=5),
    )
    assert far.points == () and far.feeders == {}


def ask(app: str, resource: ResourceRef, kva: float) -> ReserveRequest:
    return ReserveRequest(application_no=app, plan_version=1, resource=resource, kva=kva)


def test_reservations_show_in_the_next_snapshot_until_released(acts: GridActivities) -> None:
    env = ActivityEnvironment()
    feeder = ResourceRef(kind="feeder", id="SMX-S01-F02")
    # Its open capacity is 8000 × 0.8 − 5050 = 1350 (Henan's packs set no loading limit).
    too_much = env.run(acts.reserve_capacity, ask("A1", feeder, 1351))
    assert too_much.outcome == "no_capacity" and too_much.open_kva == pytest.approx(1350)
    got = env.run(acts.reserve_capacity, ask("A1", feeder, 1000))
    assert got.outcome == "granted"
    snap = env.run(acts.grid_snapshot, SnapshotRequest(location=SANMENXIA, radius_km=5))
    assert snap.feeders["SMX-S01-F02"].reserved_kva == 1000
    released = env.run(acts.release_capacity, ReleaseRequest(application_no="A1"))
    assert [r.state for r in released] == ["released"]
    snap = env.run(acts.grid_snapshot, SnapshotRequest(location=SANMENXIA, radius_km=5))
    assert snap.feeders["SMX-S01-F02"].reserved_kva == 0
    unknown = ResourceRef(kind="transformer", id="X")
    gone = env.run(acts.reserve_capacity, ask("A2", unknown, 1))
    assert gone.outcome == "unknown_resource"


def test_the_database_grid_answers_the_plan_previews_questions(db_engine: Engine) -> None:
    seed_demo_org(db_engine)
    seed_demo_grid(db_engine)
    grid = DatabaseGrid(db_engine)
    near = grid("henan/sanmenxia", SANMENXIA, "10kV")
    assert near.points and {p.voltage for p in near.points} == {"10kV"}
    radius = search_radius_km(policy_for_unit("henan/sanmenxia"), "10kV")
    assert all(km(p.location, SANMENXIA) <= radius * math.sqrt(2) + 0.01 for p in near.points)
    # A supply station's customer near the county town may be nearest to the county's points.
    station = grid("henan/sanmenxia/lingbao/yinzhuang", Location(lon=110.86, lat=34.51), None)
    assert "henan/sanmenxia/lingbao" in {p.unit for p in station.points}
    assert not any(p.unit.startswith("henan/xinyang") for p in station.points)
    everything = grid("henan/xinyang/huangchuan", None, None)
    assert {p.unit for p in everything.points} == {"henan/xinyang/huangchuan"}


def test_the_search_radius_follows_the_packs_routing_table() -> None:
    national = load_policy("national")
    table = {"max_route_m": {"10kV": 12000, "35kV": 30000}, "source": {"file": "x", "section": "1"}}
    policy = national.model_copy(update={"params": {**national.params, "plan_routing": table}})
    assert search_radius_km(policy, "35kV") == 30
    assert search_radius_km(policy, None) == 12
    bare = national.model_copy(update={"params": {}})
    assert search_radius_km(bare, "10kV") == DEFAULT_SEARCH_RADIUS_KM
