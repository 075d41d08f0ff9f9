"""`POST /api/deadline-preview`: its contract, over HTTP, with no Temporal server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from core.config import Settings
from policies.codes import BUSINESS_TYPES
from policies.loader import list_units
from tests.support import free_port, problem_fields

CONTRACT_BODY: dict[str, Any] = {
    "unit": "henan/sanmenxia",
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
    "events": [{"event": "joint_survey.started", "at": "2026-09-22T15:00:00+08:00"}],
}


def client(tmp_path: Path) -> TestClient:
    # Temporal is deliberately unreachable: the preview must not need it.
    settings = Settings(temporal_address=f"127.0.0.1:{free_port()}", data_dir=tmp_path)
    return TestClient(create_app(settings))


def test_contract_example(tmp_path: Path) -> None:
    with client(tmp_path) as http:
        r = http.post("/api/deadline-preview", json=CONTRACT_BODY)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["policy"]["unit"] == "henan/sanmenxia" and body["policy"]["version"]
    assert body["calendar"]["region"] == "CN" and body["calendar"]["version"]
    plan = next(m for m in body["monitors"] if m["code"] == "plan_reply")
    assert plan["state"] == "running"
    assert plan["provincial_limit"] == {"amount": 10, "unit": "workday"}
    assert plan["national_limit"] == {"amount": 11, "unit": "workday"}
    # Accepted the Monday before National Day 2026: ten working days (the holiday week and
    # Mid-Autumn do not count, the make-up Saturday 10-10 does) end Monday 10-12 10:00; blue
    # two working days ahead is Friday 10-09 10:00 (14 h + Saturday's 24 h + 10 h).
    due = {t["level"]: t["due_at"] for t in plan["thresholds"]}
    assert due["blue"] == "2026-10-09T10:00:00+08:00"
    assert due["yellow"] == "2026-10-12T10:00:00+08:00"
    assert due["red"] == "2026-10-13T10:00:00+08:00"
    assert plan["provisional"] is False and plan["source"]
    survey = next(m for m in body["monitors"] if m["code"] == "joint_survey")
    assert survey["started_at"] == "2026-09-22T15:00:00+08:00"


def test_every_business_type_of_every_pack(tmp_path: Path) -> None:
    with client(tmp_path) as http:
        for unit in list_units():
            for business_type in sorted(BUSINESS_TYPES):
                body = {**CONTRACT_BODY, "unit": unit, "business_type": business_type}
                body["voltage"] = "10kV" if business_type in ("hv", "dg_hv") else "380V"
                del body["events"]
                r = http.post("/api/deadline-preview", json=body)
                assert r.status_code == 200, (unit, business_type, r.text[:300])


def test_bad_body_names_the_field(tmp_path: Path) -> None:
    with client(tmp_path) as http:
        for field, value in (
            ("unit", "atlantis"),
            ("business_type", "factory"),
            ("accepted_at", "2026-09-21T10:00:00"),
            ("channel", "pigeon"),
        ):
            r = http.post("/api/deadline-preview", json={**CONTRACT_BODY, field: value})
            assert field in problem_fields(r), (field, r.json())
        r = http.post(
            "/api/deadline-preview",
            json={
                **CONTRACT_BODY,
                "events": [{"event": "warp.started", "at": "2026-09-22T15:00:00+08:00"}],
            },
        )
        assert problem_fields(r) == ["events.0.event"]
