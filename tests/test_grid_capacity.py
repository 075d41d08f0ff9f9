"""Open capacity and capacity reservations over HTTP: the figures worked out by hand, the
reservation answers, and a race of concurrent requests for the last open capacity."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from domain.grid import DEFAULT_LOADING_LIMIT, limit_for_unit, loading_limit
from policies.loader import load_policy
from tests.grid_support import HC, LB, SMX, grid_client, load_small_grid
from tests.support import problem, problem_fields


@pytest.fixture
def client(db_engine: Engine, tmp_path: Path) -> TestClient:
    c = grid_client(db_engine, tmp_path)
    load_small_grid(c)
    return c


def capacity(client: TestClient, **params: object) -> dict[str, float]:
    r = client.get("/api/grid/open-capacity", params=params)
    assert r.status_code == 200, r.text
    return {i["id"]: i["open_kva"] for i in r.json()["items"]}


# rated × 0.8 − used (− reserved), from the figures in tests/grid_support.py.
BY_HAND = {
    "F1": 10000 * 0.8 - 6000,
    "F2": 20000 * 0.8 - 15000,
    "F3": 8000 * 0.8 - 6300,
    "F4": 6000 * 0.8 - 1000,
    "T1": 400 * 0.8 - 250,
    "T2": 630 * 0.8 - 100,
}


def test_open_capacity_by_hand(client: TestClient) -> None:
    got = capacity(client)
    assert got == pytest.approx(BY_HAND)
    item = client.get("/api/grid/open-capacity", params={"kind": "transformer"}).json()["items"][0]
    assert (
        item
        | {
            "kind": "transformer",
            "id": "T1",
            "parent": "F1",
            "rated_kva": 400,
            "used_kva": 250,
            "reserved_kva": 0,
            "loading_limit": 0.8,
        }
        == item
    )
    assert "project default" in item["loading_limit_source"]


def test_open_capacity_filters_and_pages(client: TestClient) -> None:
    assert set(capacity(client, voltage="380V")) == {"T1", "T2"}
    assert set(capacity(client, voltage="10kV")) == {"F1", "F3", "F4"}
    assert set(capacity(client, voltage="35kV")) == {"F2"}
    assert set(capacity(client, unit=LB)) == {"F3", "T2"}
    assert set(capacity(client, unit=HC)) == {"F4"}
    assert set(capacity(client, unit=SMX, kind="feeder")) == {"F1", "F2", "F3"}
    # Feeders first, then transformers: a page may span both.
    page = client.get("/api/grid/open-capacity", params={"offset": 3, "limit": 2}).json()
    assert [i["id"] for i in page["items"]] == ["F4", "T1"]
    assert page["total"] == 6
    page = client.get("/api/grid/open-capacity", params={"offset": 5, "limit": 2}).json()
    assert [i["id"] for i in page["items"]] == ["T2"]


def reserve(client: TestClient, app: str, version: int, kind: str, rid: str, kva: float):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/grid/reservations",
        json={"application_no": app, "plan_version": version, "kind": kind, "id": rid, "kva": kva},
    )


def test_reservations_reduce_open_capacity_until_released(client: TestClient) -> None:
    first = reserve(client, "APP001", 1, "feeder", "F1", 500)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "granted"
    assert first.json()["open_kva"] == pytest.approx(2000)
    # Instants in the deployment's zone, with its offset (docs/api.md).
    assert first.json()["reservation"]["created_at"].endswith("+08:00")
    # A retry (the activity ran again after a crash) gets the same reservation back.
    retry = reserve(client, "APP001", 1, "feeder", "F1", 500)
    assert retry.json()["reservation"]["id"] == first.json()["reservation"]["id"]
    assert capacity(client)["F1"] == pytest.approx(1500)
    assert reserve(client, "APP002", 1, "transformer", "T1", 70).status_code == 200
    full = problem(reserve(client, "APP003", 1, "transformer", "T1", 1), 409)
    (error,) = full["errors"]
    # What is still open, in the reason: 400 × 0.8 − 250 − 70.
    assert error["field"] == "kva" and "(0 kVA open)" in error["reason"]
    assert "(0 kVA open)" in full["detail"] and full["type"].endswith(":conflict")
    partly = problem(reserve(client, "APP004", 1, "feeder", "F1", 1600), 409)
    assert "(1500 kVA open)" in partly["errors"][0]["reason"]
    held = client.get("/api/grid/reservations", params={"state": "held"}).json()
    assert [i["application_no"] for i in held["items"]] == ["APP001", "APP002"]
    released = client.post("/api/grid/reservations/release", json={"application_no": "APP002"})
    assert released.status_code == 200
    assert [r["state"] for r in released.json()] == ["released"]
    assert capacity(client)["T1"] == pytest.approx(70)
    # Released once: a second call releases nothing more.
    again = client.post("/api/grid/reservations/release", json={"application_no": "APP002"})
    assert again.json() == []


def test_a_reservation_refused_names_why(client: TestClient) -> None:
    # A feeder that is not stored: the request clashes with the grid as it is (409).
    assert problem_fields(reserve(client, "APP001", 1, "feeder", "F404", 10), 409) == ["id"]
    assert reserve(client, "APP001", 2, "feeder", "F1", 10).status_code == 200
    stale = reserve(client, "APP001", 1, "feeder", "F1", 10)
    assert problem_fields(stale, 409) == ["plan_version"]
    bad = reserve(client, "APP001", 0, "feeder", "F1", -5)
    assert set(problem_fields(bad)) == {"plan_version", "kva"}
    as_text = client.post(
        "/api/grid/reservations",
        json={"application_no": "APP001", "plan_version": 3, "kind": "feeder", "id": "F1",
              "kva": "10"},
    )  # fmt: skip
    assert problem_fields(as_text) == ["kva"]


def test_the_loading_limit_comes_from_the_pack_when_it_sets_one() -> None:
    national = load_policy("national")
    assert loading_limit(national, "feeder").value == DEFAULT_LOADING_LIMIT
    table = {
        "feeder_loading_limit": 0.7,
        "transformer_loading_limit": 0.9,
        "source": {"file": "x.txt", "section": "§1"},
    }
    policy = national.model_copy(update={"params": {**national.params, "plan_capacity": table}})
    assert loading_limit(policy, "feeder").value == 0.7
    assert loading_limit(policy, "transformer").model_dump() == {"value": 0.9, "source": "x.txt §1"}
    # A supply station has no pack of its own: its nearest ancestor's applies.
    assert limit_for_unit("henan/sanmenxia/lingbao/yinzhuang", "feeder").value == 0.8


async def test_racing_requests_for_the_last_capacity_over_http(
    db_engine: Engine, tmp_path: Path
) -> None:
    """Eight plans ask at once for 60 kVA where 100 are open, ten times over: exactly one is
    granted each time (the endpoints run on the server's worker threads)."""
    c = grid_client(db_engine, tmp_path)
    load_small_grid(c)
    transport = httpx.ASGITransport(app=c.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as ac:
        for round_no in range(10):
            rid = f"FR{round_no}"
            body = {"id": rid, "substation": "S1", "unit": SMX, "voltage": "10kV",
                    "rated_kva": 1000, "used_kva": 700}  # fmt: skip
            assert (await ac.post("/api/grid/feeders", json=body)).status_code == 201
            bodies = [
                {"application_no": f"RACE{round_no}-{i}", "plan_version": 1, "kind": "feeder",
                 "id": rid, "kva": 60}
                for i in range(8)
            ]  # fmt: skip
            answers = await asyncio.gather(
                *(ac.post("/api/grid/reservations", json=b) for b in bodies)
            )
            codes = sorted(a.status_code for a in answers)
            assert codes == [200] + [409] * 7, [a.text for a in answers]
            left = capacity(c, unit=SMX, kind="feeder")[rid]
            assert left == pytest.approx(40)
