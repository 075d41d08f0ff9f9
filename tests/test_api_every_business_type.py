"""Issue 5's bar: every business type of every pack can be created, driven to archive and
cancelled through the API, on a real Temporal server."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from policies.codes import BUSINESS_TYPES, CHANGE_SERVICES
from policies.loader import list_units
from tests.support import new_application_no

VOLTAGE = {
    "hv": "10kV",
    "dg_hv": "10kV",
    "lv_residential": "220V",
    "charging_residential": "220V",
    "rename_residential": "220V",
    "transfer_residential": "220V",
    "tou_change_residential": "220V",
}
CONCURRENCY = 16


def timed_by_documents(unit: str, business_type: str) -> bool:
    """Where the documents give limits: Henan's tables cover every business type, except
    transfers (过户), timed only when fees are settled (涉及算费, the `fee_settlement` flag).
    The other provinces' documents say nothing of change services (see docs/policies.md)."""
    if unit.startswith("henan"):
        return not business_type.startswith("transfer_")
    return business_type in NEW_SERVICE


NEW_SERVICE = BUSINESS_TYPES - CHANGE_SERVICES


def body(unit: str, business_type: str) -> dict[str, Any]:
    return {
        "application_no": new_application_no(),
        "unit": unit,
        "business_type": business_type,
        "voltage": VOLTAGE.get(business_type, "380V"),
        "capacity_kva": 100,
        "customer": {"name": "测试客户"},
    }


async def test_every_business_type_of_every_pack(api: httpx.AsyncClient) -> None:
    cases = [(u, bt) for u in list_units() for bt in sorted(BUSINESS_TYPES)]
    assert len(cases) >= 8 * 25
    gate = asyncio.Semaphore(CONCURRENCY)
    problems: list[str] = []

    async def archive_one(unit: str, bt: str) -> None:
        async with gate:
            r = await api.post("/api/applications", json=body(unit, bt))
            if r.status_code != 201:
                problems.append(f"create {unit} {bt}: {r.status_code} {r.text[:200]}")
                return
            created = r.json()
            if timed_by_documents(unit, bt):
                status = (await api.get(created["href"])).json()
                if not status["monitors"]:
                    problems.append(f"{unit} {bt}: no monitors")
            no = created["application_no"]
            for event in ("archive.started", "archive.completed"):
                r = await api.post(f"/api/applications/{no}/events", json={"event": event})
                if r.status_code != 200:
                    problems.append(f"{event} {unit} {bt}: {r.status_code} {r.text[:200]}")
                    return
            if r.json()["state"] != "completed":
                problems.append(f"{unit} {bt}: not completed after archive")

    async def cancel_one(unit: str, bt: str) -> None:
        async with gate:
            r = await api.post("/api/applications", json=body(unit, bt))
            if r.status_code != 201:
                problems.append(f"create {unit} {bt}: {r.status_code}")
                return
            no = r.json()["application_no"]
            r = await api.post(f"/api/applications/{no}/cancel", json={"reason": "test"})
            if r.status_code != 200 or r.json()["state"] != "cancelled":
                problems.append(f"cancel {unit} {bt}: {r.status_code} {r.text[:200]}")

    await asyncio.gather(*(archive_one(u, bt) for u, bt in cases))
    await asyncio.gather(*(cancel_one(u, bt) for u, bt in cases))
    assert problems == []
