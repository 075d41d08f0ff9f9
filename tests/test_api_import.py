"""Importing in-flight applications with their history, through the API, against a real
dev server and worker: line-numbered refusals, all or nothing, per-row reports, idempotent
re-imports, the read model, and the digest instead of one message per past warning."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from temporalio.testing import WorkflowEnvironment

from contracts.application import workflow_id
from readmodel.applications import ApplicationRow, TimelineRow, WarningRow
from readmodel.demo_org import seed_demo_org
from readmodel.imports import DIGEST_PREFIX, ImportedApplicationRow
from readmodel.outbox import OutboxRow
from tests.support import new_application_no, problem_fields

TZ = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)


def record(no: str, accepted: datetime, **overrides: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "application_no": no,
        "unit": "henan/sanmenxia",
        "business_type": "hv",
        "voltage": "10kV",
        "capacity_kva": 630,
        "accepted_at": accepted.isoformat(),
        "customer": {"name": "测试客户", "phone": "13800000000"},
        "customer_manager": "cm-001",
        "source_ref": f"OLD-{no}",
        "events": [
            {"event": "site_survey.started", "at": (accepted + DAY).isoformat()},
            {"event": "site_survey.completed", "at": (accepted + 2 * DAY).isoformat()},
        ],
        "holds": [],
    }
    r.update(overrides)
    return r


def jsonl(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


async def post(api: httpx.AsyncClient, body: str, **params: Any) -> httpx.Response:
    return await api.post(
        "/api/applications/import",
        content=body.encode(),
        params=params,
        headers={"content-type": "application/jsonl"},
    )


def months_ago(n: int) -> datetime:
    return datetime.now(TZ).replace(microsecond=0) - timedelta(days=30 * n)


async def test_import_writes_the_read_model_and_starts_the_workflow(
    api: httpx.AsyncClient, session_engine: Engine
) -> None:
    no = new_application_no()
    r = await post(api, jsonl(record(no, months_ago(3))))
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == 1 and r.json()["started"] == 1
    with Session(session_engine) as s:
        row = s.get(ApplicationRow, no)
        assert row is not None and row.stage == "plan_reply" and row.warning_level == "red"
        origins = set(s.exec(select(TimelineRow.origin).where(TimelineRow.application_no == no)))
        assert origins == {"imported"}
        warnings = s.exec(select(WarningRow).where(WarningRow.application_no == no)).all()
        assert warnings and all(w.imported and w.raised_at == w.due_at for w in warnings)
        # Nothing per warning, nothing to the customer about the past.
        sent = s.exec(select(OutboxRow).where(OutboxRow.application_no == no)).all()
        assert sent == []
    status = (await api.get(f"/api/applications/{no}")).json()
    assert status["warning_level"] == "red" and status["stage"] == "plan_reply"
    assert all(w["imported"] for w in status["warnings"])
    assert {e["origin"] for e in status["timeline"]} == {"imported"}
    assert len(status["events"]) == 2
    # Live events after the import are live.
    r = await api.post(
        f"/api/applications/{no}/events", json={"event": "plan_reply.started", "by": "cm-001"}
    )
    assert r.status_code == 200, r.text
    status = (await api.get(f"/api/applications/{no}")).json()
    assert status["timeline"][-1]["origin"] == "live"


async def test_a_malformed_file_is_refused_by_line_and_changes_nothing(
    api: httpx.AsyncClient, session_engine: Engine
) -> None:
    good, bad_order, bad_json = (new_application_no() for _ in range(3))
    t0 = months_ago(2)
    wrong = record(
        bad_order,
        t0,
        events=[
            {"event": "site_survey.started", "at": (t0 + 2 * DAY).isoformat()},
            {"event": "site_survey.started", "at": (t0 + 3 * DAY).isoformat()},
        ],
    )
    body = (
        jsonl(record(good, t0), wrong) + "{not json\n" + jsonl(record(bad_json, t0 + 9 * DAY * 30))
    )
    r = await post(api, body)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    rows = {(e["row"], e["field"]) for e in errors}
    # Started twice: refused as a live event would be, naming the second.
    assert (2, "events.1.event") in rows
    assert (3, "line") in rows
    assert (4, "accepted_at") in rows
    assert "events.1.event" in problem_fields(r)
    with Session(session_engine) as s:
        for no in (good, bad_order, bad_json):
            assert s.get(ApplicationRow, no) is None
            assert s.get(ImportedApplicationRow, no) is None
    # Per row: the good one goes in, the others are reported.
    r = await post(api, body, mode="rows")
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["imported"] == 1
    assert {e["row"] for e in report["refused"]} == {2, 3, 4}


async def test_reimport_is_idempotent_and_update_appends_later_events(
    api: httpx.AsyncClient, session_engine: Engine
) -> None:
    no = new_application_no()
    t0 = months_ago(1)
    first = record(no, t0)
    assert (await post(api, jsonl(first))).json()["imported"] == 1
    again = (await post(api, jsonl(first))).json()
    assert again["skipped"] == 1 and again["imported"] == 0
    changed = record(no, t0, capacity_kva=800)
    r = await post(api, jsonl(changed))
    assert r.status_code == 422 and problem_fields(r) == ["capacity_kva"]
    later = record(no, t0)
    later["events"].append({"event": "plan_reply.started", "at": (t0 + 3 * DAY).isoformat()})
    r = await post(api, jsonl(later))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "events"
    r = await post(api, jsonl(later), update="true")
    assert r.status_code == 200 and r.json()["updated"] == 1, r.text
    status = (await api.get(f"/api/applications/{no}")).json()
    assert [e["event"] for e in status["events"]][-1] == "plan_reply.started"
    # From the old system like the rest of its past, though added to a running workflow.
    added = [e for e in status["timeline"] if e["event"] == "plan_reply.started"]
    assert [e["origin"] for e in added] == ["imported"]
    assert (await post(api, jsonl(later), update="true")).json()["skipped"] == 1
    # Staff sending the field through the API are recorded as live whatever they claim.
    r = await api.post(
        f"/api/applications/{no}/pause", json={"reason": "客户原因", "origin": "imported"}
    )
    assert r.status_code == 200, r.text
    status = (await api.get(f"/api/applications/{no}")).json()
    assert status["timeline"][-1]["origin"] == "live"
    with Session(session_engine) as s:
        n = s.exec(
            select(func.count()).select_from(TimelineRow).where(TimelineRow.application_no == no)
        ).one()
        assert n == len(status["timeline"])


async def test_csv_import(api: httpx.AsyncClient, session_engine: Engine) -> None:
    no = new_application_no()
    t0 = months_ago(2)
    body = (
        "application_no,unit,business_type,voltage,capacity_kva,accepted_at,customer_name,"
        "customer_phone,source_ref,events,holds\n"
        f"{no},henan/sanmenxia,hv,10kV,630,{t0.isoformat()},客户,13800000000,YK-1,"
        f"site_survey.started@{(t0 + DAY).isoformat()};"
        f"site_survey.completed@{(t0 + 2 * DAY).isoformat()},"
        f"{(t0 + 3 * DAY).isoformat()}/{(t0 + 5 * DAY).isoformat()}/客户要求暂缓\n"
    )
    r = await api.post(
        "/api/applications/import.csv", content=body.encode(), headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    status = (await api.get(f"/api/applications/{no}")).json()
    assert [e["event"] for e in status["events"]] == [
        "site_survey.started",
        "site_survey.completed",
        "pause",
        "resume",
    ]
    bad = body.replace("site_survey.started@", "site_survey.started#")
    r = await api.post(
        "/api/applications/import.csv", content=bad.encode(), headers={"content-type": "text/csv"}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["row"] == 2


def overdue_in(message: str) -> int:
    """How many overdue applications a digest message counts."""
    found = re.search(r"在途工单中(\d+)件已超时限", message)
    assert found is not None, message
    return int(found.group(1))


async def stop_workflows(env: WorkflowEnvironment, numbers: list[str]) -> None:
    """Hundreds of imported workflows left running would slow every later test that reaches
    all running applications (a calendar's publication signals each): they stop with this one."""
    handles = [env.client.get_workflow_handle(workflow_id(no)) for no in numbers]
    await asyncio.gather(*(h.terminate("test over") for h in handles), return_exceptions=True)


async def test_overdue_imports_queue_one_digest_per_recipient_and_unit(
    api: httpx.AsyncClient, session_engine: Engine, dev_env: WorkflowEnvironment
) -> None:
    seed_demo_org(session_engine)
    t0 = months_ago(4)
    numbers = [new_application_no() for _ in range(500)]
    digest_of = OutboxRow.application_no == f"{DIGEST_PREFIX}henan/sanmenxia"
    # Other imports of this test session may already be in this window's digest.
    with Session(session_engine) as s:
        before = {(d.phone, d.monitor): overdue_in(d.message) for d in s.exec(
            select(OutboxRow).where(digest_of)).all()}  # fmt: skip
    r = await post(api, jsonl(*(record(no, t0) for no in numbers)))
    assert r.status_code == 200, r.text
    assert r.json()["overdue"] == 500
    with Session(session_engine) as s:
        per_warning = s.exec(
            select(func.count())
            .select_from(OutboxRow)
            .where(col(OutboxRow.application_no).in_(numbers))
        ).one()
        assert per_warning == 0
        digests = s.exec(select(OutboxRow).where(digest_of)).all()
        assert digests and all(d.kind == "digest" for d in digests)
        assert all(
            overdue_in(d.message) == before.get((d.phone, d.monitor), 0) + 500 for d in digests
        )
        # At most one per recipient (phone) and unit in the send window.
        keys = [(d.phone, d.monitor) for d in digests]
        assert len(keys) == len(set(keys))
    await stop_workflows(dev_env, numbers)
