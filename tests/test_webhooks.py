"""The webhooks against a real dev server and worker: signatures, timestamps, bodies,
redeliveries, replays, and the effect of each kind (reserve project, registration, permit)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import attach, create_app
from core.config import Settings
from readmodel.integrations import DeliveryRow, ReserveProjectRow
from scripts.approval_client import (
    permit_body,
    prepared,
    project_body,
    registration_body,
)
from tests.support import new_application_no, problem

APPROVAL = "whsec_" + "dGVzdC1hcHByb3ZhbC1zZWNyZXQtMzItYnl0ZXMtbG9uZyE="
REGISTRATION = "whsec_" + "dGVzdC1yZWdpc3RyYXRpb24tc2VjcmV0LTMyLWJ5dGVzIQ=="
OTHER = "whsec_" + "YW5vdGhlci1zZWNyZXQtdGhhdC1pcy1ub3QtdGhlLW9uZQ=="


def settings_for(tmp_path: Path, task_queue: str = "grid-connection") -> Settings:
    return Settings(
        data_dir=tmp_path,
        temporal_task_queue=task_queue,
        approval_webhook_secret=SecretStr(APPROVAL),
        registration_webhook_secret=SecretStr(REGISTRATION),
    )


async def client_for(app_settings: Settings, engine: Engine, temporal: Client) -> httpx.AsyncClient:
    app = create_app()
    attach(app, app_settings, engine, temporal)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@pytest_asyncio.fixture
async def hooks(
    dev_env: WorkflowEnvironment, dev_worker: Worker, session_engine: Engine, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(settings_for(tmp_path), session_engine, dev_env.client) as c:
        yield c


async def deliver(
    c: httpx.AsyncClient,
    kind: str,
    body: dict[str, Any],
    secret: str | None = None,
    msg_id: str | None = None,
    at: datetime | None = None,
) -> httpx.Response:
    secret = secret or (REGISTRATION if kind == "registration" else APPROVAL)
    path, raw, headers = prepared(kind, body, secret, msg_id, at)
    return await c.post(path, content=raw, headers=headers)


def deliveries(engine: Engine, webhook_id: str) -> list[DeliveryRow]:
    with Session(engine) as s:
        return list(s.exec(select(DeliveryRow).where(col(DeliveryRow.webhook_id) == webhook_id)))


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


# -- signatures and timestamps: 401, nothing stored -----------------------------------------------


@pytest.mark.parametrize(
    "case",
    ["wrong_secret", "other_integration", "missing_headers", "tampered", "old", "future"],
)
async def test_unauthentic_deliveries_get_401_and_nothing_is_stored(
    hooks: httpx.AsyncClient, session_engine: Engine, case: str
) -> None:
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = project_body()
    secret, at = APPROVAL, None
    if case == "wrong_secret":
        secret = OTHER
    elif case == "other_integration":
        secret = REGISTRATION  # the registrations' secret does not sign approval deliveries
    elif case == "old":
        at = datetime.now(UTC) - timedelta(minutes=6)
    elif case == "future":
        at = datetime.now(UTC) + timedelta(minutes=6)
    path, raw, headers = prepared("project", body, secret, msg_id, at)
    if case == "missing_headers":
        del headers["webhook-signature"]
    if case == "tampered":
        raw = raw.replace(b"800", b"900")
    r = await hooks.post(path, content=raw, headers=headers)
    p = problem(r, 401)
    assert p["errors"][0]["field"] == "webhook-signature"
    assert deliveries(session_engine, msg_id) == []


async def test_no_secret_configured_refuses_everything(
    dev_env: WorkflowEnvironment, session_engine: Engine, tmp_path: Path
) -> None:
    unset = Settings(data_dir=tmp_path)
    async with await client_for(unset, session_engine, dev_env.client) as c:
        msg_id = f"msg_{uuid.uuid4().hex}"
        r = await deliver(c, "registration", registration_body(), msg_id=msg_id)
        assert "no secret" in problem(r, 401)["errors"][0]["reason"]
    assert deliveries(session_engine, msg_id) == []


async def test_a_timestamp_within_five_minutes_is_accepted(
    hooks: httpx.AsyncClient, session_engine: Engine
) -> None:
    at = datetime.now(UTC) - timedelta(minutes=4)
    r = await deliver(hooks, "project", project_body(), at=at)
    assert r.status_code == 202, r.text


# -- bodies: 422 naming the field, kept -----------------------------------------------------------


async def test_a_malformed_body_gets_422_naming_the_field_and_the_same_again(
    hooks: httpx.AsyncClient, session_engine: Engine
) -> None:
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = project_body(expected_load_kva=-5)
    first = await deliver(hooks, "project", body, msg_id=msg_id)
    assert [e["field"] for e in problem(first, 422)["errors"]] == ["expected_load_kva"]
    again = await deliver(hooks, "project", body, msg_id=msg_id)
    assert again.status_code == 422 and again.json() == first.json()
    [row] = deliveries(session_engine, msg_id)
    assert row.status == "rejected" and row.workflow_id is None


async def test_an_unknown_unit_and_a_missing_field_are_named(hooks: httpx.AsyncClient) -> None:
    r = await deliver(hooks, "registration", registration_body(unit="nowhere/at-all"))
    assert [e["field"] for e in problem(r, 422)["errors"]] == ["unit"]
    body = permit_body("APP-1")
    del body["decided_at"]
    r = await deliver(hooks, "permit", body)
    assert [e["field"] for e in problem(r, 422)["errors"]] == ["decided_at"]
    r = await deliver(hooks, "permit", permit_body("APP-1", decided_at="2026-10-01T10:00:00"))
    assert [e["field"] for e in problem(r, 422)["errors"]] == ["decided_at"]


# -- redeliveries ---------------------------------------------------------------------------------


async def test_a_redelivery_gets_the_first_answer_and_has_no_second_effect(
    hooks: httpx.AsyncClient, session_engine: Engine, dev_env: WorkflowEnvironment
) -> None:
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = project_body()
    answers = [await deliver(hooks, "project", body, msg_id=msg_id) for _ in range(3)]
    assert {a.status_code for a in answers} == {202}
    assert answers[0].json() == answers[1].json() == answers[2].json()
    [row] = deliveries(session_engine, msg_id)
    assert row.status == "accepted" and row.workflow_id == f"reserve-{body['id']}"
    # The same project sent again under a new webhook-id: stored, but no second workflow.
    other = await deliver(hooks, "project", body)
    assert other.status_code == 202
    [dup] = deliveries(session_engine, _id_of(other))
    assert dup.status == "duplicate"
    query = f"WorkflowId = 'reserve-{body['id']}'"

    async def one_run() -> bool:
        # Visibility lags the start; it never shows a second run.
        return len([w async for w in dev_env.client.list_workflows(query)]) == 1

    await eventually(one_run)


def _id_of(r: httpx.Response) -> str:
    return str(r.request.headers["webhook-id"])


# -- reserve projects -----------------------------------------------------------------------------


async def test_reserve_project_plan_follow_up_and_one_click_conversion(
    hooks: httpx.AsyncClient, session_engine: Engine
) -> None:
    body = project_body()
    pid = body["id"]
    assert (await deliver(hooks, "project", body)).status_code == 202

    async def listed() -> bool:
        r = await hooks.get("/api/reserve-projects", params={"unit": "henan", "state": "reserved"})
        return any(i["project_id"] == pid for i in r.json()["items"])

    await eventually(listed)
    status = (await hooks.get(f"/api/reserve-projects/{pid}")).json()
    assert status["plan"] is not None or status["plan_note"]
    assert status["next_reminder_at"] and status["follow_up_source"].startswith("000_")
    r = await hooks.post(f"/api/reserve-projects/{pid}/follow-ups", json={"by": "cm-001"})
    assert r.status_code == 200 and len(r.json()["follow_ups"]) == 1
    accepted = datetime.now(UTC).isoformat()
    r = await hooks.post(
        f"/api/reserve-projects/{pid}/convert",
        json={
            "accepted_at": accepted,
            "customer": {"name": "示例公司"},
            "customer_manager": "cm-001",
        },
    )
    assert r.status_code == 201, r.text
    no = r.json()["application_no"]
    assert no == f"rsv-{pid}"
    app = (await hooks.get(f"/api/applications/{no}")).json()
    assert app["profile"]["channel"] == "reserve"
    assert app["profile"]["capacity_kva"] == 800 and app["profile"]["voltage"] == "10kV"
    assert app["profile"]["location"] == {"lon": 111.2, "lat": 34.77}
    again = await hooks.post(
        f"/api/reserve-projects/{pid}/convert",
        json={"accepted_at": accepted, "customer": {"name": "示例公司"}},
    )
    assert problem(again, 409)["errors"][0]["field"] == "state"

    async def converted() -> bool:
        with Session(session_engine) as s:
            row = s.get(ReserveProjectRow, pid)
            return row is not None and row.state == "converted" and row.application_no == no

    await eventually(converted)
    # Once the project's workflow has completed, the conversion is still a conflict.
    late = await hooks.post(
        f"/api/reserve-projects/{pid}/convert",
        json={"accepted_at": accepted, "customer": {"name": "示例公司"}},
    )
    assert "converted" in problem(late, 409)["errors"][0]["reason"]
    problem(await hooks.post("/api/reserve-projects/NOPE-404/follow-ups", json={}), 404)


# -- registrations --------------------------------------------------------------------------------


async def test_a_registration_is_proposed_then_confirmed_as_proactive_small_micro(
    hooks: httpx.AsyncClient,
) -> None:
    body = registration_body()
    reg = body["registration_no"]
    assert (await deliver(hooks, "registration", body)).status_code == 202

    async def proposed() -> bool:
        r = await hooks.get(
            "/api/registrations", params={"unit": "henan/sanmenxia", "state": "proposed"}
        )
        return any(i["registration_no"] == reg for i in r.json()["items"])

    await eventually(proposed)
    r = await hooks.post(f"/api/registrations/{reg}/confirm", json={"customer_manager": "cm-002"})
    assert r.status_code == 201, r.text
    app = (await hooks.get(f"/api/applications/reg-{reg}")).json()
    assert app["profile"]["business_type"] == "lv_small_micro"
    assert app["profile"]["channel"] == "proactive" and app["profile"]["small_micro"] is True
    r = await hooks.post(f"/api/registrations/{reg}/confirm", json={"customer_manager": "cm-002"})
    problem(r, 409)


# -- permits --------------------------------------------------------------------------------------


async def _hv_application(c: httpx.AsyncClient, outside_line_m: float) -> str:
    no = new_application_no()
    r = await c.post(
        "/api/applications",
        json={
            "application_no": no,
            "unit": "henan/sanmenxia",
            "business_type": "hv",
            "voltage": "10kV",
            "capacity_kva": 630,
            "outside_line_m": outside_line_m,
            "customer": {"name": "测试客户"},
            "customer_manager": "cm-001",
        },
    )
    assert r.status_code == 201, r.text
    return no


async def _effect(engine: Engine, msg_id: str) -> str:
    found: list[str] = []

    async def done() -> bool:
        rows = deliveries(engine, msg_id)
        if rows and rows[0].effect:
            found.append(rows[0].effect)
        return bool(found)

    await eventually(done)
    return found[0]


async def test_permits_complete_reopen_and_ignore_older_results(
    hooks: httpx.AsyncClient, session_engine: Engine
) -> None:
    no = await _hv_application(hooks, 300)
    t0 = datetime.now(UTC) + timedelta(seconds=1)
    r = await hooks.post(
        f"/api/applications/{no}/events",
        json={"event": "admin_approval.started", "at": t0.isoformat()},
    )
    assert r.status_code == 200, r.text
    late = permit_body(no, result="approved", decided_at=(t0 + timedelta(seconds=2)).isoformat())
    early = permit_body(no, result="rejected", decided_at=(t0 + timedelta(seconds=1)).isoformat())
    first = f"msg_{uuid.uuid4().hex}"
    await deliver(hooks, "permit", late, msg_id=first)
    assert (await _effect(session_engine, first)) == "recorded admin_approval.completed"
    # The older rejection arrives after the approval: it changes nothing.
    second = f"msg_{uuid.uuid4().hex}"
    await deliver(hooks, "permit", early, msg_id=second)
    assert (await _effect(session_engine, second)).startswith("superseded")
    timeline = (await hooks.get(f"/api/applications/{no}")).json()["timeline"]
    assert [e["event"] for e in timeline].count("admin_approval.completed") == 1
    # A later rejection of another kind reopens the stage and returns it to its manager.
    rejected = permit_body(
        no, kind="greenery", result="rejected", decided_at=(t0 + timedelta(seconds=3)).isoformat()
    )
    third = f"msg_{uuid.uuid4().hex}"
    await deliver(hooks, "permit", rejected, msg_id=third)
    assert (await _effect(session_engine, third)) == "recorded admin_approval.started"
    r = await hooks.get("/api/integrations/permits", params={"returned_to": "cm-001"})
    assert [(p["application_no"], p["kind"]) for p in r.json()] == [(no, "greenery")]


async def test_an_exempt_outside_line_does_not_wait_for_permits(
    hooks: httpx.AsyncClient, session_engine: Engine
) -> None:
    no = await _hv_application(hooks, 150)  # Sanmenxia: 200 m and under need no approval
    msg_id = f"msg_{uuid.uuid4().hex}"
    at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    await deliver(hooks, "permit", permit_body(no, decided_at=at), msg_id=msg_id)
    effect = await _effect(session_engine, msg_id)
    assert effect.startswith("refused") and "does not apply" in effect
    status = (await hooks.get(f"/api/applications/{no}")).json()
    assert all(m["code"] != "admin_approval" for m in status["monitors"])


# -- nothing lost: Temporal down, worker stopped --------------------------------------------------


async def test_a_delivery_made_while_temporal_is_down_is_kept_and_replayed(
    dev_env: WorkflowEnvironment, dev_worker: Worker, session_engine: Engine, tmp_path: Path
) -> None:
    from core.temporal import connect
    from tests.support import free_port

    down = settings_for(tmp_path).model_copy(
        update={"temporal_address": f"127.0.0.1:{free_port()}"}
    )
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = registration_body()
    async with await client_for(down, session_engine, await connect(down, lazy=True)) as c:
        r = await deliver(c, "registration", body, msg_id=msg_id)
        assert r.status_code == 202
    [row] = deliveries(session_engine, msg_id)
    assert row.status == "failed" and row.last_error and body["name"] not in row.last_error
    async with await client_for(settings_for(tmp_path), session_engine, dev_env.client) as c:
        failed = (await c.get("/api/integrations/deliveries", params={"status": "failed"})).json()
        assert row.id in [d["id"] for d in failed["items"]]
        assert all("body" not in d for d in failed["items"])
        replayed = await c.post(f"/api/integrations/deliveries/{row.id}/replay")
        assert replayed.status_code == 200 and replayed.json()["status"] == "accepted"
        problem(await c.post(f"/api/integrations/deliveries/{row.id}/replay"), 409)
        # The redelivery still gets the first answer.
        again = await deliver(c, "registration", body, msg_id=msg_id)
        assert again.json() == r.json()


async def test_a_delivery_made_while_the_worker_is_stopped_is_processed_when_it_starts(
    dev_env: WorkflowEnvironment, session_engine: Engine, tmp_path: Path
) -> None:
    import concurrent.futures

    from worker import build_worker

    queue = f"wh-stopped-{uuid.uuid4().hex[:8]}"
    body = project_body()
    async with await client_for(settings_for(tmp_path, queue), session_engine, dev_env.client) as c:
        assert (await deliver(c, "project", body)).status_code == 202
        await asyncio.sleep(1.0)
        with Session(session_engine) as s:
            assert s.get(ReserveProjectRow, body["id"]) is None  # nobody polls the queue yet
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            async with build_worker(dev_env.client, session_engine, queue, pool):

                async def written() -> bool:
                    with Session(session_engine) as s:
                        return s.get(ReserveProjectRow, body["id"]) is not None

                await eventually(written)
