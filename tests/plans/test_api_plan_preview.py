"""`POST /api/plan-preview`: the consultation answer over HTTP, with no Temporal server; the grid
read through the injected provider (the demo grid by default, a test grid when overridden)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import get_grid_provider
from core.config import Settings
from policies.plans.preview import GridProvider
from policies.plans.resources import GridSnapshot, Location
from readmodel.demo_grid import demo_grid_rows, seed_demo_grid
from readmodel.demo_org import seed_demo_org
from readmodel.grid import ConnectionPointRow
from tests.plans.support import ORIGIN, Grid
from tests.support import free_port, problem, problem_fields

UNIT = "henan/sanmenxia"
BODY: dict[str, Any] = {
    "unit": UNIT,
    "business_type": "hv",
    "voltage": "10kV",
    "capacity_kva": 630,
    "dual_power": False,
    "important": False,
    "small_micro": False,
    "area": "urban",
    "grid_works": None,
    "channel": "counter",
    "accepted_at": "2026-09-21T10:00:00+08:00",
    "location": {"lon": ORIGIN.lon, "lat": ORIGIN.lat},
    # The deadline preview's other fields are accepted and ignored.
    "events": [],
}


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(temporal_address=f"127.0.0.1:{free_port()}", data_dir=tmp_path)
    with TestClient(create_app(settings)) as client:
        yield client


def use_grid(client: TestClient, snapshot: GridSnapshot) -> list[tuple[str, Location | None]]:
    asked: list[tuple[str, Location | None]] = []

    def provider(unit: str, location: Location | None, voltage: str | None) -> GridSnapshot:
        asked.append((unit, location))
        return snapshot

    grid: GridProvider = provider
    client.app.dependency_overrides[get_grid_provider] = lambda: grid  # type: ignore[attr-defined]
    return asked


def test_contract_fields(http: TestClient) -> None:
    g = Grid(unit=UNIT)
    g.point("P1", 300, feeder="F1")
    asked = use_grid(http, g.snapshot())
    r = http.post("/api/plan-preview", json=BODY)
    assert r.status_code == 200, r.text
    body = r.json()
    assert asked == [(UNIT, ORIGIN)]
    assert body["access_voltage"] == "10kV"
    [source] = body["power_sources"]
    assert source["connection_point"] == {
        "id": "P1",
        "kind": "pole",
        "voltage": "10kV",
        "feeder": "F1",
        "transformer": None,
        "substation": "S1",
        "lon": pytest.approx(g.points[0].location.lon),
        "lat": pytest.approx(g.points[0].location.lat),
        "restricted": False,
    }
    assert source["route_m"] == pytest.approx(390, abs=0.5)
    assert set(body["investment_boundary"]) == {"code", "label", "source"}
    assert body["investment_boundary"]["code"] == "connection_point"
    assert body["metering_point"]["code"] == "property_boundary"
    # The customer builds its line from the pole: the grid's works are the T-connection.
    assert body["supporting_works"]["type"] == "t_connection"
    assert set(body["supporting_works"]["limit"]) == {"amount", "unit"}
    assert body["admin_approval"]["required"] is True  # 390 m > 200 m
    assert body["admin_approval"]["limit"] == {"amount": 3.0, "unit": "workday"}
    assert body["outage_tier"] == "live_line" and body["live_line"] is True
    assert body["needs_joint_review"] is False and body["reasons"] == []
    assert {d["field"] for d in body["decisions"]} >= {"access_voltage", "power_sources[0]"}
    assert all(set(d) == {"field", "value", "source"} and d["source"] for d in body["decisions"])


def test_default_grid_is_the_read_models_grid(http: TestClient) -> None:
    engine = http.app.state.engine  # type: ignore[attr-defined]
    seed_demo_org(engine)
    seed_demo_grid(engine)
    points = [r for r in demo_grid_rows() if isinstance(r, ConnectionPointRow)]
    near = next(p for p in points if p.voltage == "10kV" and not p.restricted)
    body = {**BODY, "location": {"lon": near.lon, "lat": near.lat}}
    r = http.post("/api/plan-preview", json=body)
    assert r.status_code == 200, r.text
    ids = {p.id for p in points}
    sources = r.json()["power_sources"]
    assert sources and all(s["connection_point"]["id"] in ids for s in sources)


def test_location_may_be_left_out_when_the_line_is_measured(http: TestClient) -> None:
    use_grid(http, GridSnapshot())
    body = {k: v for k, v in BODY.items() if k != "location"}
    r = http.post("/api/plan-preview", json={**body, "outside_line_m": 150})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["power_sources"] == [] and answer["admin_approval"]["required"] is False
    assert answer["needs_joint_review"] is True
    assert [x["code"] for x in answer["reasons"]] == ["no_location"]


def test_joint_review_reasons_over_http(http: TestClient) -> None:
    g = Grid(unit=UNIT)
    g.point("R", 50, feeder="F1", restricted=True)
    use_grid(http, g.snapshot())
    r = http.post("/api/plan-preview", json=BODY)
    answer = r.json()
    assert answer["needs_joint_review"] is True
    assert [x["code"] for x in answer["reasons"]] == ["no_feasible_point", "best_point_restricted"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"location": None}, "location"),
        ({"capacity_kva": None}, "capacity_kva"),
        ({"business_type": "suspension"}, "business_type"),
        ({"business_type": "warp"}, "business_type"),
        ({"location": {"lon": 200, "lat": 30}}, "location.lon"),
        ({"location": {"lon": "111.2", "lat": 34.8}}, "location.lon"),
        ({"capacity_kva": "630"}, "capacity_kva"),
        ({"voltage": "11kV"}, "voltage"),
        ({"unit": "atlantis"}, "unit"),
        ({"accepted_at": "2026-09-21T10:00:00"}, "accepted_at"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    http: TestClient, change: dict[str, Any], field: str
) -> None:
    use_grid(http, GridSnapshot())
    r = http.post("/api/plan-preview", json={**BODY, **change})
    assert field in problem_fields(r), r.text
    assert all(e["location"] == "body" for e in r.json()["errors"])


def test_an_undeclared_flag_is_refused(http: TestClient) -> None:
    r = http.post("/api/plan-preview", json={**BODY, "flags": ["petrol"]})
    assert problem_fields(r) == ["flags"] and "petrol" in problem(r, 422)["detail"]


def test_the_answer_declares_the_contract_fields(http: TestClient) -> None:
    """Every field the preview's contract lists, by that name and shape, required in the
    OpenAPI answer (the extra fields are documented in docs/plans.md)."""
    schemas = http.get("/openapi.json").json()["components"]["schemas"]

    def required(name: str) -> set[str]:
        return set(schemas[name]["required"])

    assert required("Plan") >= {
        "access_voltage", "power_sources", "investment_boundary", "metering_point",
        "supporting_works", "admin_approval", "outage_tier", "needs_joint_review", "reasons",
        "decisions",
    }  # fmt: skip
    assert required("PowerSource") >= {"connection_point", "route_m"}
    assert required("PointRef") >= {"id", "kind", "feeder", "substation", "lon", "lat"}
    assert required("Boundary") >= {"code", "label", "source"}
    assert set(schemas["Boundary"]["properties"]["code"]["enum"]) == {
        "red_line", "meter", "meter_box", "ring_main_unit_or_pole_switch", "connection_point",
    }  # fmt: skip
    works = schemas["Plan"]["properties"]["supporting_works"]["anyOf"]
    assert {"$ref": "#/components/schemas/SupportingWorks"} in works and {"type": "null"} in works
    assert required("SupportingWorks") >= {"type", "limit", "source"}
    assert required("Limit") == {"amount", "unit"}
    assert required("Approval") >= {"required", "limit", "source"}
    assert required("Decision") == {"field", "value", "source"}
    assert required("Reason") >= {"code", "detail", "source"}
