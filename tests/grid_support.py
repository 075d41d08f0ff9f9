"""A small grid for the grid tests, and an HTTP client on the app over a database of its own
(importable as `tests.grid_support`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.deps import get_app_settings, get_db_engine
from core.config import Settings
from readmodel.demo_org import seed_demo_org

SMX = "henan/sanmenxia"
LB = "henan/sanmenxia/lingbao"
HC = "henan/xinyang/huangchuan"

SUBSTATIONS: list[dict[str, Any]] = [
    {"id": "S1", "name": "湖滨站", "unit": SMX, "voltage": "110kV", "lon": 111.196, "lat": 34.772},
    {"id": "S2", "name": "灵宝站", "unit": LB, "voltage": "110kV", "lon": 110.873, "lat": 34.519},
    {"id": "S3", "name": "潢川站", "unit": HC, "voltage": "35kV", "lon": 115.051, "lat": 32.131},
]
FEEDERS: list[dict[str, Any]] = [
    # open = 10000 × 0.8 − 6000 = 2000
    {"id": "F1", "substation": "S1", "unit": SMX, "voltage": "10kV", "rated_kva": 10000,
     "used_kva": 6000},
    # open = 20000 × 0.8 − 15000 = 1000
    {"id": "F2", "substation": "S1", "unit": SMX, "voltage": "35kV", "rated_kva": 20000,
     "used_kva": 15000},
    # open = 8000 × 0.8 − 6300 = 100
    {"id": "F3", "substation": "S2", "unit": LB, "voltage": "10kV", "rated_kva": 8000,
     "used_kva": 6300},
    {"id": "F4", "substation": "S3", "unit": HC, "voltage": "10kV", "rated_kva": 6000,
     "used_kva": 1000},
]  # fmt: skip
TRANSFORMERS: list[dict[str, Any]] = [
    # open = 400 × 0.8 − 250 = 70
    {"id": "T1", "feeder": "F1", "unit": SMX, "rated_kva": 400, "load_kva": 250},
    # open = 630 × 0.8 − 100 = 404
    {"id": "T2", "feeder": "F3", "unit": LB, "rated_kva": 630, "load_kva": 100},
]
POINTS: list[dict[str, Any]] = [
    {"id": "P1", "kind": "pole", "unit": SMX, "voltage": "10kV", "lon": 111.20, "lat": 34.77,
     "feeder": "F1"},
    {"id": "P2", "kind": "ring_main_unit", "unit": SMX, "voltage": "10kV", "lon": 111.21,
     "lat": 34.78, "feeder": "F1", "restricted": True, "restricted_reason": "线路重载"},
    {"id": "P3", "kind": "meter_box", "unit": SMX, "voltage": "380V", "lon": 111.201,
     "lat": 34.771, "transformer": "T1"},
    {"id": "P4", "kind": "pole", "unit": LB, "voltage": "10kV", "lon": 110.88, "lat": 34.52,
     "feeder": "F3"},
    {"id": "P5", "kind": "substation_bay", "unit": SMX, "voltage": "35kV", "lon": 111.196,
     "lat": 34.772, "feeder": "F2"},
]  # fmt: skip
CUSTOMERS: list[dict[str, Any]] = [
    {"id": "C1", "feeder": "F1", "name": "某工厂", "phone": "13900000001"},
    {"id": "C2", "feeder": "F1", "transformer": "T1", "name": "某住户", "phone": "13900000002"},
    {"id": "C3", "feeder": "F3", "name": "某商铺"},
]
ALL: list[tuple[str, list[dict[str, Any]]]] = [
    ("substations", SUBSTATIONS),
    ("feeders", FEEDERS),
    ("transformers", TRANSFORMERS),
    ("connection-points", POINTS),
    ("customers", CUSTOMERS),
]


def grid_client(engine: Engine, tmp_path: Path, **settings: Any) -> TestClient:
    """The app on `engine` (with the demo organisation's units), without Temporal: the grid
    endpoints need only the database."""
    seed_demo_org(engine)
    app = create_app()
    s = Settings(data_dir=tmp_path, **settings)
    app.dependency_overrides[get_db_engine] = lambda: engine
    app.dependency_overrides[get_app_settings] = lambda: s
    return TestClient(app)


def load_small_grid(client: TestClient) -> None:
    for path, rows in ALL:
        for row in rows:
            r = client.post(f"/api/grid/{path}", json=row)
            assert r.status_code == 201, (path, row["id"], r.text)
