"""The outage endpoints over HTTP, against the dev server and a worker on the demo grid: the
list and its filters, one outage, dispatch's rejection and approval, the iCalendar feed, the
application's status, and the problems they answer (404, 409, 422 naming the field)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import icalendar
import pytest
from sqlalchemy import Engine

from policies.plans.resources import Location
from readmodel.demo_grid import seed_demo_grid
from readmodel.demo_org import seed_demo_org
from tests.support import new_application_no
from tests.test_api_application_plans import body, plan

#: At a switching station of a demo feeder (SMX-S01-F05) that no other test plans on, so the
#: plan keeps that bay (the daily plan) and its outage joins no other test's.
SMX_HV_API = Location(lon=111.198, lat=34.7617)

PREREQUISITES = [
    "customer_works.started",
    "customer_works.completed",
    "completion_inspection.started",
    "completion_inspection.completed",
    "contract.completed",
    "meter_install.completed",
    "dispatch_agreement.completed",
]


@pytest.fixture
def grid(session_engine: Engine) -> Engine:
    seed_demo_org(session_engine)
    seed_demo_grid(session_engine)
    return session_engine


def fields(r: httpx.Response) -> list[str]:
    return [e["field"] for e in r.json().get("errors", [])]


async def scheduled(api: httpx.AsyncClient, no: str, not_id: str | None = None) -> dict[str, Any]:
    """The application's outage once the workflow has scheduled it (another than `not_id`)."""
    for _ in range(300):
        r = await api.get(f"/api/applications/{no}")
        assert r.status_code == 200, r.text
        outage = r.json().get("outage")
        if outage is not None and outage["id"] != not_id:
            found: dict[str, Any] = outage
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no outage for {no}")


async def ready_to_energize(api: httpx.AsyncClient) -> str:
    """A 10 kV application whose energization is possible: plan approved, prerequisites in."""
    no = new_application_no()
    location = {"lon": SMX_HV_API.lon, "lat": SMX_HV_API.lat}
    r = await api.post("/api/applications", json=body(no, location=location))
    assert r.status_code == 201, r.text
    r = await api.post(f"/api/applications/{no}/events", json={"event": "site_survey.completed"})
    assert r.status_code == 200, r.text
    await plan(api, no)
    r = await api.post(f"/api/applications/{no}/plan/approve", json={"by": "cm-001"})
    assert r.status_code == 200, r.text
    skipped = set((await api.get(f"/api/applications/{no}")).json()["skipped_stages"])
    steps = list(PREREQUISITES)
    if "grid_works" not in skipped:
        steps[2:2] = ["grid_works.started", "grid_works.completed"]
    for event in steps:
        r = await api.post(f"/api/applications/{no}/events", json={"event": event})
        assert r.status_code == 200, (event, r.text)
    return no


async def test_outage_listed_rejected_rescheduled_approved_and_in_the_calendar(
    api: httpx.AsyncClient, grid: Engine
) -> None:
    no = await ready_to_energize(api)
    first = await scheduled(api, no)
    assert first["state"] == "submitted" and first["applications"] == [no]
    assert first["start_at"].endswith("+08:00")

    r = await api.get("/api/outages", params={"application": no})
    assert r.status_code == 200, r.text
    [listed] = r.json()["items"]
    assert listed["id"] == first["id"] and listed["feeder"] == first["feeder"]
    assert listed["tier"] == "daily" and listed["unit"] == "henan/sanmenxia"
    assert listed["affected_customers"] and listed["notice_sent_at"] is not None
    assert listed["start_at"] == first["start_at"]
    r = await api.get("/api/outages", params={"unit": "henan", "feeder": first["feeder"],
                                              "state": "submitted"})  # fmt: skip
    assert first["id"] in [o["id"] for o in r.json()["items"]]
    r = await api.get("/api/outages", params={"application": no, "from": first["end_at"]})
    assert r.json()["items"] == []
    r = await api.get(f"/api/outages/{first['id']}")
    assert r.status_code == 200 and r.json()["applications"] == [no]

    # Dispatch rejects it: a reason is required; a new slot is found for the application.
    r = await api.post(f"/api/outages/{first['id']}/reject", json={})
    assert r.status_code == 422 and "reason" in fields(r), r.text
    r = await api.post(f"/api/outages/{first['id']}/reject",
                       json={"reason": "主变检修", "by": "dsp-01"})  # fmt: skip
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["outage"]["state"] == "rejected" and answer["outage"]["reason"] == "主变检修"
    again = answer["rescheduled"][no]
    assert again["id"] != first["id"] and again["replaced"] == [first["id"]]
    # The rejected outage can no longer be approved; re-delivering the rejection is harmless.
    r = await api.post(f"/api/outages/{first['id']}/approve", json={})
    assert r.status_code == 409 and fields(r) == ["state"], r.text
    r = await api.post(f"/api/outages/{first['id']}/reject", json={"reason": "主变检修"})
    assert r.status_code == 200 and r.json()["rescheduled"][no]["id"] == again["id"]

    # Dispatch approves the new one: the application records its 送(停)电计划反馈.
    r = await api.post(f"/api/outages/{again['id']}/approve", json={"by": "dsp-01"})
    assert r.status_code == 200 and r.json()["state"] == "approved", r.text
    status = (await api.get(f"/api/applications/{no}")).json()
    assert status["outage"]["id"] == again["id"] and status["outage"]["state"] == "approved"
    events = [e["event"] for e in status["events"]]
    assert events.count("outage_plan.started") == 1 and events.count("outage_plan.completed") == 1
    r = await api.post(f"/api/outages/{again['id']}/approve", json={})
    assert r.status_code == 200, r.text

    # Dispatch's calendar: both outages, the rejected one cancelled.
    r = await api.get("/api/outages.ics", params={"application": no})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    found = {str(e["uid"]): str(e["status"]) for e in cal.walk("VEVENT")}
    assert found == {
        f"{first['id']}@grid-connection": "CANCELLED",
        f"{again['id']}@grid-connection": "CONFIRMED",
    }


async def test_outage_problems_name_the_field(api: httpx.AsyncClient, grid: Engine) -> None:
    r = await api.get("/api/outages/OUT-NOPE-1")
    assert r.status_code == 404 and fields(r) == ["outage_id"], r.text
    r = await api.post("/api/outages/OUT-NOPE-1/approve", json={})
    assert r.status_code == 404 and fields(r) == ["outage_id"], r.text
    r = await api.post("/api/outages/OUT-NOPE-1/reject", json={"reason": "x"})
    assert r.status_code == 404 and fields(r) == ["outage_id"], r.text
    r = await api.get("/api/outages", params={"state": "maybe"})
    assert r.status_code == 422 and fields(r) == ["state"], r.text
    r = await api.get("/api/outages", params={"from": "2026-10-08T08:00:00"})
    assert r.status_code == 422 and fields(r) == ["from"], r.text
    r = await api.get("/api/outages", params={"from": "2026-10-09T08:00:00+08:00",
                                              "to": "2026-10-08T08:00:00+08:00"})  # fmt: skip
    assert r.status_code == 422 and fields(r) == ["to"], r.text
    r = await api.get("/api/outages.ics", params={"feeder": "no spaces allowed"})
    assert r.status_code == 422 and fields(r) == ["feeder"], r.text
    r = await api.post("/api/outages/OUT-NOPE-1/reject", json={"reason": "x", "extra": 1})
    assert r.status_code == 422 and "extra" in fields(r), r.text
