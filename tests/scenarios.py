"""Workflow scenarios shared by the workflow tests and the history recorder.

Each scenario drives one path through a workflow and returns its handle; the recorder saves the
resulting history under tests/histories/ so that replay tests catch non-deterministic changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import Client, WorkflowHandle

from workflows.connection_application import (
    ConnectionApplication,
    initial_search_attributes,
    summary,
)
from workflows.models import (
    ApplicationInput,
    ApplicationProfile,
    ApplicationStatus,
    CancelRequest,
    Customer,
    workflow_id,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

Handle = WorkflowHandle[ConnectionApplication, ApplicationStatus]


def hv_10kv_input(application_no: str, accepted_at: datetime | None = None) -> ApplicationInput:
    return ApplicationInput(
        application_no=application_no,
        profile=ApplicationProfile(
            unit="henan/sanmenxia",
            business_type="hv",
            voltage="10kV",
            capacity_kva=630,
            accepted_at=accepted_at or datetime(2026, 9, 21, 10, 0, tzinfo=SHANGHAI),
        ),
        customer=Customer(name="测试客户", phone="13800000000"),
        customer_manager="cm-001",
    )


async def start(client: Client, task_queue: str, inp: ApplicationInput) -> Handle:
    return await client.start_workflow(
        ConnectionApplication.run,
        inp,
        id=workflow_id(inp.application_no),
        task_queue=task_queue,
        search_attributes=initial_search_attributes(inp),
        static_summary=summary(inp),
    )


async def cancelled(client: Client, task_queue: str, application_no: str) -> Handle:
    handle = await start(client, task_queue, hv_10kv_input(application_no))
    await handle.query(ConnectionApplication.status)
    await handle.execute_update(
        ConnectionApplication.cancel, CancelRequest(reason="customer withdrew", by="cm-001")
    )
    await handle.result()
    return handle


SCENARIOS: dict[str, Callable[[Client, str, str], Awaitable[Any]]] = {
    "connection_application_cancelled": cancelled,
}
