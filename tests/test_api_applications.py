"""The staff API against a real Temporal dev server and worker."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from api.app import attach, create_app
from core.config import Settings
from core.temporal import connect
from readmodel.applications import ApplicationRow
from tests.support import free_port, new_application_no, problem, problem_fields

SHANGHAI = ZoneInfo("Asia/Shanghai")


def body(no: str | None = None, **overrides: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "unit": "henan/sanmenxia",
        "business_type": "hv",
        "voltage": "10kV",
        "capacity_kva": 630,
        "customer": {"name": "测试客户", "phone": "13800000000"},
        "customer_manager": "cm-001",
    }
    if no:
        b["application_no"] = no
    b.update(overrides)
    return b


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def test_create_then_read_live_and_from_database(
    api: httpx.AsyncClient, session_engine: Engine
) -> None:
    no = new_application_no()
    r = await api.post("/api/applications", json=body(no))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["application_no"] == no
    # Henan's 10 kV plan-reply clock runs from acceptance: that is the stage at once.
    assert created["stage"] == "plan_reply"
    assert created["state"] == "running" and created["next_due_at"].endswith("+08:00")
    # A short answer: where the full status is, not the status itself.
    assert created["href"] == r.headers["location"] == f"/api/applications/{no}"
    assert "monitors" not in created and len(r.content) < 400

    r = await api.get(created["href"])
    assert r.status_code == 200
    assert r.json()["state"] == "running"
    assert r.json()["timeline"][0]["event"] == "accept.started"
    running = {m["code"] for m in r.json()["monitors"] if m["state"] == "running"}
    # The joint survey's notice is issued at acceptance too, in the background (docs/notices.md).
    assert (
        {"plan_reply", "full_process"} <= running <= {"plan_reply", "full_process", "joint_survey"}
    )
    # Defaulted to "now" in the policy zone, not UTC.
    assert r.json()["profile"]["accepted_at"].endswith("+08:00")

    async def projected() -> bool:
        with Session(session_engine) as s:
            return s.get(ApplicationRow, no) is not None

    await eventually(projected)
    r = await api.get("/api/applications", params={"unit": "henan/sanmenxia", "limit": 500})
    assert no in [i["application_no"] for i in r.json()["items"]]
    # The list is a read model for staff: personal data stays out of it.
    assert "customer_name" not in r.json()["items"][0]


async def test_generated_number_when_absent(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/applications", json=body())
    assert r.status_code == 201
    assert r.json()["application_no"].startswith("A")


async def test_duplicate_number_is_409_and_starts_nothing(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment
) -> None:
    no = new_application_no()
    assert (await api.post("/api/applications", json=body(no))).status_code == 201
    first = await dev_env.client.get_workflow_handle(f"app-{no}").describe()
    r = await api.post("/api/applications", json=body(no, capacity_kva=100))
    assert problem_fields(r, 409) == ["application_no"]
    after = await dev_env.client.get_workflow_handle(f"app-{no}").describe()
    assert after.run_id == first.run_id
    # Still the first application's data.
    status = (await api.get(f"/api/applications/{no}")).json()
    assert status["profile"]["capacity_kva"] == 630


async def test_number_of_a_closed_application_is_never_reused(api: httpx.AsyncClient) -> None:
    no = new_application_no()
    await api.post("/api/applications", json=body(no))
    assert (await api.post(f"/api/applications/{no}/cancel", json={"reason": "x"})).is_success
    assert (await api.post("/api/applications", json=body(no))).status_code == 409


async def test_malformed_bodies_name_the_field_and_create_nothing(
    api: httpx.AsyncClient,
) -> None:
    now = datetime.now(SHANGHAI)
    cases: list[tuple[dict[str, Any], str]] = [
        (body(business_type="factory"), "business_type"),
        (body(voltage="11kV"), "voltage"),
        (body(unit="Henan Province"), "unit"),
        (body(capacity_kva=-1), "capacity_kva"),
        (body(customer={"name": ""}), "customer.name"),
        (body(customer={"name": "x", "phone": "call me"}), "customer.phone"),
        (body(accepted_at="2026-09-21T10:00:00"), "accepted_at"),
        (body(accepted_at=(now - timedelta(days=8)).isoformat()), "accepted_at"),
        (body(accepted_at=(now + timedelta(hours=2)).isoformat()), "accepted_at"),
        (body(application_no="no spaces allowed"), "application_no"),
        (body(colour="blue"), "colour"),
    ]
    for payload, field in cases:
        no = new_application_no()
        payload.setdefault("application_no", no)
        r = await api.post("/api/applications", json=payload)
        assert field in problem_fields(r), (field, r.json())
        assert (await api.get(f"/api/applications/{no}")).status_code == 404
    missing = body()
    del missing["customer"]
    r = await api.post("/api/applications", json=missing)
    assert "customer" in problem_fields(r)


async def test_backdated_within_a_week_is_accepted(api: httpx.AsyncClient) -> None:
    at = (datetime.now(SHANGHAI) - timedelta(days=6)).replace(microsecond=0)
    r = await api.post("/api/applications", json=body(accepted_at=at.isoformat()))
    assert r.status_code == 201
    status = (await api.get(r.json()["href"])).json()
    assert datetime.fromisoformat(status["profile"]["accepted_at"]) == at


async def test_cancel_finishes_the_workflow(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, session_engine: Engine
) -> None:
    no = new_application_no()
    await api.post("/api/applications", json=body(no))
    r = await api.post(
        f"/api/applications/{no}/cancel", json={"reason": "customer withdrew", "by": "cm-001"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "cancelled"
    live = (await api.get(f"/api/applications/{no}")).json()
    assert live["cancel_reason"] == "customer withdrew"
    handle = dev_env.client.get_workflow_handle(f"app-{no}")
    result = await handle.result()
    assert (result["state"], result["cancel_reason"]) == ("cancelled", "customer withdrew")
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    def row_state() -> str | None:
        with Session(session_engine) as s:
            row = s.get(ApplicationRow, no)
            return row.state if row else None

    assert row_state() == "cancelled"
    again = await api.post(f"/api/applications/{no}/cancel", json={"reason": "twice"})
    closed = problem(again, 409)
    assert closed["type"].endswith(":closed") and closed["errors"][0]["field"] == "application_no"
    assert closed["errors"][0]["reason"] == f"application {no} is cancelled"
    # A closed application still answers (Temporal replays it for the query).
    assert (await api.get(f"/api/applications/{no}")).json()["state"] == "cancelled"


async def test_refused_updates_answer_the_workflows_errors(api: httpx.AsyncClient) -> None:
    """422 when the request is wrong, 409 when it clashes with the application's state; the
    body lists each field at fault and why, as the workflow's refusal gave them."""
    no = new_application_no()
    await api.post("/api/applications", json=body(no))
    r = await api.post(f"/api/applications/{no}/events", json={"event": "warp_drive.started"})
    [error] = problem(r, 422)["errors"]
    assert error["field"] == "event" and "unknown event 'warp_drive.started'" in error["reason"]
    r = await api.post(f"/api/applications/{no}/events", json={"event": "energize.completed"})
    [error] = problem(r, 409)["errors"]
    assert error["field"] == "event" and error["reason"].startswith("wrong order")
    r = await api.post(f"/api/applications/{no}/resume", json={"reason": "customer back"})
    conflict = problem(r, 409)
    assert conflict["type"].endswith(":conflict")
    assert conflict["errors"] == [{"field": "paused", "reason": "the clock is not paused"}]


async def test_cancel_needs_a_reason_and_an_existing_application(api: httpx.AsyncClient) -> None:
    no = new_application_no()
    await api.post("/api/applications", json=body(no))
    r = await api.post(f"/api/applications/{no}/cancel", json={})
    assert "reason" in problem_fields(r)
    r = await api.post(f"/api/applications/{new_application_no()}/cancel", json={"reason": "x"})
    assert problem_fields(r, 404) == ["application_no"]


async def test_search_attributes_make_an_operator_list(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment
) -> None:
    no = new_application_no()
    await api.post("/api/applications", json=body(no, unit="henan/xinyang/huangchuan"))
    query = "Unit = 'henan/xinyang/huangchuan' AND BusinessType = 'hv' AND Stage = 'plan_reply'"

    async def listed() -> bool:
        ids = [w.id async for w in dev_env.client.list_workflows(query)]
        return f"app-{no}" in ids

    await eventually(listed)
    desc = await dev_env.client.get_workflow_handle(f"app-{no}").describe()
    # The customer's name must not be searchable or shown in the summary.
    assert "测试客户" not in str(desc.raw_description.workflow_execution_info.search_attributes)
    summary = await desc.static_summary()
    # In Chinese for staff, with the codes in brackets for searching.
    assert summary == "10kV 高压新装 [hv] 630kVA · 潢川 [henan/xinyang/huangchuan]"


async def test_closed_application_is_read_from_the_database(
    api: httpx.AsyncClient, session_engine: Engine, tmp_path: Path
) -> None:
    no = new_application_no()
    await api.post("/api/applications", json=body(no))
    await api.post(f"/api/applications/{no}/cancel", json={"reason": "customer withdrew"})

    async def closed() -> bool:
        with Session(session_engine) as s:
            row = s.get(ApplicationRow, no)
            return row is not None and row.final_status is not None

    await eventually(closed)
    # Another API process whose Temporal is down still answers for a closed application.
    app = create_app()
    unreachable = await connect(
        Settings(temporal_address=f"127.0.0.1:{free_port()}", data_dir=tmp_path), lazy=True
    )
    attach(app, Settings(data_dir=tmp_path), session_engine, unreachable)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as offline:
        r = await offline.get(f"/api/applications/{no}")
        assert r.status_code == 200
        assert r.json()["state"] == "cancelled"
        assert r.json()["cancel_reason"] == "customer withdrew"
        assert r.json()["monitors"]
        # A running one needs Temporal.
        other = new_application_no()
        await api.post("/api/applications", json=body(other))
        assert (await offline.get(f"/api/applications/{other}")).status_code == 503
