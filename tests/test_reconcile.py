"""Reconciliation finds every kind of drift between the read model and the workflows (a missing
row, a stale one, a closed application without its final status, a row without a workflow),
reports it, repairs it through the projection's write, and then finds nothing."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, delete, func, select, update
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from readmodel.applications import ApplicationRow, TimelineRow
from tests.support import application_row, new_application_no
from tests.test_api_applications import body

ROOT = Path(__file__).resolve().parent.parent
APP = ApplicationRow.__table__  # type: ignore[attr-defined]
TIMELINE = TimelineRow.__table__  # type: ignore[attr-defined]


async def until(check: Any, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


def row(engine: Engine, no: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        r = conn.execute(select(APP).where(APP.c.application_no == no)).mappings().first()
    return dict(r) if r else None


def timeline(engine: Engine, no: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(TIMELINE).where(TIMELINE.c.application_no == no)
            ).scalar_one()
        )


def mine(report: dict[str, Any], nos: set[str]) -> dict[str, tuple[str, list[str], bool]]:
    return {
        d["application_no"]: (d["kind"], sorted(d["fields"]), d["repaired"])
        for d in report["drifted"]
        if d["application_no"] in nos
    }


async def test_drifted_rows_are_reported_then_repaired(
    api: httpx.AsyncClient, session_engine: Engine, dev_worker: Worker
) -> None:
    intact, stale, missing, unfinished, closed, orphan = (new_application_no() for _ in range(6))
    for no in (intact, stale, missing, unfinished, closed):
        assert (await api.post("/api/applications", json=body(no))).status_code == 201
    for no in (unfinished, closed):
        r = await api.post(f"/api/applications/{no}/cancel", json={"reason": "withdrawn"})
        assert r.is_success
    await until(lambda: all(row(session_engine, n) for n in (intact, stale, missing)))
    await until(
        lambda: all(
            (row(session_engine, n) or {}).get("final_status") for n in (unfinished, closed)
        )
    )
    before = {n: row(session_engine, n) for n in (intact, stale, missing, unfinished, closed)}
    entries = timeline(session_engine, stale)
    with session_engine.begin() as conn:
        # Lost or corrupted writes, of each kind.
        conn.execute(update(APP).where(APP.c.application_no == stale).values(stage="bogus"))
        conn.execute(delete(TIMELINE).where(TIMELINE.c.application_no == stale))
        conn.execute(delete(APP).where(APP.c.application_no == missing))
        conn.execute(delete(TIMELINE).where(TIMELINE.c.application_no == missing))
        conn.execute(
            update(APP)
            .where(APP.c.application_no == unfinished)
            .values(state="running", final_status=None)
        )
        conn.execute(update(APP).where(APP.c.application_no == closed).values(state="running"))
        conn.execute(APP.insert().values({**before[intact], "application_no": orphan}))  # type: ignore[dict-item]
    nos = {intact, stale, missing, unfinished, closed}

    dry = (await api.post("/api/operations/reconcile", params={"dry_run": "true"})).json()
    assert mine(dry, nos) == {
        stale: ("stale", ["stage", "timeline"], False),
        missing: ("missing", ["application"], False),
        unfinished: ("not_final", ["final_status", "state"], False),
        closed: ("stale", ["state"], False),
    }
    assert orphan in dry["orphans"] and intact not in dry["orphans"]
    assert row(session_engine, missing) is None  # a dry run changes nothing

    done = (await api.post("/api/operations/reconcile")).json()
    assert {n: kind for n, (kind, _, repaired) in mine(done, nos).items() if repaired} == {
        stale: "stale",
        missing: "missing",
        unfinished: "not_final",
        closed: "stale",
    }
    for no in (stale, missing, unfinished, closed):
        now = row(session_engine, no)
        assert now is not None
        for field in ("state", "stage", "warning_level", "customer_name", "customer_phone"):
            assert now[field] == before[no][field], (no, field)  # type: ignore[index]
    assert timeline(session_engine, stale) == entries
    assert timeline(session_engine, missing) == entries
    assert row(session_engine, unfinished)["final_status"]["state"] == "cancelled"  # type: ignore[index]
    assert row(session_engine, orphan) is not None  # reported, never deleted

    again = (await api.post("/api/operations/reconcile")).json()
    assert mine(again, nos) == {}


def test_the_command_reports_as_json(dev_env: WorkflowEnvironment, db_engine: Engine) -> None:
    """The command's plumbing: its settings from the environment, the JSON, the exit status.
    On a task queue and a database of its own (the session's hold thousands of workflows, each
    queried); the endpoint's tests above cover the reconciliation itself."""
    from sqlmodel import Session

    orphan = new_application_no()
    with Session(db_engine) as s:
        s.add(application_row(orphan))
        s.commit()
    url = db_engine.url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "TEMPORAL_TASK_QUEUE": f"reconcile-{orphan}",
        "DATABASE_URL": url,
    }
    out = subprocess.run(
        [sys.executable, "-m", "readmodel.reconcile", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["dry_run"] is True
    assert (report["checked"], report["running"], report["closed"]) == (0, 0, 0)
    # A row no workflow stands behind is reported, never repaired away.
    assert report["orphans"] == [orphan]


def test_the_endpoint_needs_a_sign_in(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import attach, create_app
    from core.config import Settings
    from tests.support import secured

    app = secured(create_app())
    attach(app, Settings(data_dir=tmp_path), engine=None, temporal=None)  # type: ignore[arg-type]
    r = TestClient(app).post("/api/operations/reconcile")
    assert r.status_code == 401


async def test_an_application_whose_query_fails_is_unreadable_not_an_error(
    db_engine: Engine,
) -> None:
    """A worker that fails the status query (say, a task over the deadlock timeout on an
    overloaded host) leaves that application unreadable; the reconciliation goes on."""
    from temporalio.client import WorkflowExecutionStatus, WorkflowQueryFailedError

    from readmodel.projection import ProjectionWriter
    from readmodel.reconcile import ReconcileReport, _check

    class FailingHandle:
        async def query(self, *_: Any, **__: Any) -> Any:
            raise WorkflowQueryFailedError("[TMPRL1101] Potential deadlock detected")

    class Client:
        def get_workflow_handle(self, _: str) -> FailingHandle:
            return FailingHandle()

    report = ReconcileReport(checked=1, running=1, closed=0)
    running = WorkflowExecutionStatus.RUNNING
    writer = ProjectionWriter(db_engine)
    await _check(Client(), writer, "A1", running, None, report, False)  # type: ignore[arg-type]
    assert report.unreadable == ["A1"] and report.drifted == []
