"""Errors when a dependency is down: 503 naming which, and nothing half-created."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.app import create_app
from api.deps import get_db_engine
from core.config import Settings
from core.db import make_engine
from readmodel.applications import ApplicationRow
from tests.support import free_port, problem


def unreachable_settings(tmp_path: Path) -> Settings:
    # A port nothing listens on: the client connects lazily and fails fast.
    return Settings(temporal_address=f"127.0.0.1:{free_port()}", data_dir=tmp_path)


def test_temporal_down_gives_503_and_creates_nothing(tmp_path: Path) -> None:
    settings = unreachable_settings(tmp_path)
    with TestClient(create_app(settings)) as client:
        r = client.post(
            "/api/applications",
            json={
                "application_no": "DOWN0001",
                "unit": "henan",
                "business_type": "lv_residential",
                "customer": {"name": "x"},
            },
        )
        down = problem(r, 503)
        assert down["type"].endswith(":unavailable") and "Temporal" in down["detail"]
        assert r.headers["retry-after"] == "5"
        problem(client.get("/api/applications/DOWN0001"), 503)
        health = problem(client.get("/health"), 503)
        assert health["errors"] == [{"field": "temporal", "reason": "unreachable"}]
        engine = client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as s:
        assert s.exec(select(ApplicationRow)).all() == []


def test_health_names_the_database_when_it_is_down(tmp_path: Path) -> None:
    app = create_app(unreachable_settings(tmp_path))
    broken = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'app.db'}")
    app.dependency_overrides[get_db_engine] = lambda: broken
    with TestClient(app) as client:
        r = client.get("/health")
    assert {"field": "database", "reason": "unreachable"} in problem(r, 503)["errors"]


def test_openapi_is_served(tmp_path: Path) -> None:
    with TestClient(create_app(unreachable_settings(tmp_path))) as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/applications", "/api/applications/{application_no}", "/health"} <= set(paths)
