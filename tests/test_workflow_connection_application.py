"""ConnectionApplication on the time-skipping test server."""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.projection import ProjectionActivities
from core.models import Application
from tests.scenarios import hv_10kv_input, start
from tests.support import new_application_no
from worker import build_worker
from workflows.connection_application import ConnectionApplication
from workflows.models import CancelRequest, ProjectionInput


@pytest_asyncio.fixture
async def worker(
    ts_env: WorkflowEnvironment,
    db_engine: Engine,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> AsyncIterator[Worker]:
    async with build_worker(ts_env.client, db_engine, f"tq-{uuid.uuid4()}", executor) as w:
        yield w


async def test_holds_its_input_and_finishes_on_cancel(
    ts_env: WorkflowEnvironment, worker: Worker, db_engine: Engine
) -> None:
    no = new_application_no()
    inp = hv_10kv_input(no)
    handle = await start(ts_env.client, worker.task_queue, inp)
    status = await handle.query(ConnectionApplication.status)
    assert status.profile == inp.profile
    assert status.state == "running" and status.stage == "accept"

    # Weeks pass without anything happening: the workflow keeps waiting, it does not finish.
    await ts_env.sleep(timedelta(days=30))
    assert (await handle.query(ConnectionApplication.status)).state == "running"

    after = await handle.execute_update(
        ConnectionApplication.cancel, CancelRequest(reason="customer withdrew", by="cm-001")
    )
    assert after.state == "cancelled"
    assert after.timeline[-1].event == "cancelled"
    assert after.timeline[-1].note == "customer withdrew"
    result = await handle.result()
    assert result.state == "cancelled"
    with Session(db_engine) as s:
        row = s.get(Application, no)
        assert row is not None and row.state == "cancelled"


async def test_second_cancel_is_refused_by_the_validator(
    ts_env: WorkflowEnvironment, worker: Worker
) -> None:
    handle = await start(ts_env.client, worker.task_queue, hv_10kv_input(new_application_no()))
    # An update on a workflow that is about to close: refuse it before it reaches history.
    await handle.execute_update(ConnectionApplication.cancel, CancelRequest(reason="first"))
    with pytest.raises(WorkflowUpdateFailedError) as info:
        await handle.execute_update(ConnectionApplication.cancel, CancelRequest(reason="again"))
    assert "already cancelled" in str(info.value.cause)


def test_projection_is_idempotent_and_never_moves_backwards(db_engine: Engine) -> None:
    activities = ProjectionActivities(db_engine)
    inp = hv_10kv_input(new_application_no())
    t0 = datetime(2026, 9, 21, 2, 0, tzinfo=UTC)

    def projection(state: str, at: datetime) -> ProjectionInput:
        return ProjectionInput(
            application_no=inp.application_no,
            profile=inp.profile,
            customer=inp.customer,
            customer_manager=inp.customer_manager,
            state=state,  # type: ignore[arg-type]
            stage="accept",
            updated_at=at,
        )

    activities.project_application(projection("running", t0))
    activities.project_application(projection("running", t0))  # a retry
    activities.project_application(projection("cancelled", t0 + timedelta(hours=1)))
    activities.project_application(projection("running", t0))  # a late, older write
    with Session(db_engine) as s:
        row = s.get(Application, inp.application_no)
        assert row is not None
        assert row.state == "cancelled"
        # Stored as UTC and returned timezone-aware, whatever zone it came in.
        assert row.accepted_at == inp.profile.accepted_at
        assert row.accepted_at.tzinfo is not None
