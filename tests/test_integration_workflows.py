"""The integrations' workflows on a time-skipping server: reminders counted in working days on
the unit's calendar, conversion and confirmation starting their application, dismissal."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from calendars.calendar import Calendar
from contracts.application import workflow_id
from contracts.integrations import (
    RegistrationStart,
    RegistrationStatus,
    ReserveProjectStart,
    ReserveProjectStatus,
)
from readmodel.integrations import RegistrationRow, ReserveProjectRow
from tests.integration_scenarios import (
    permit_without_application,
    registration_confirmed,
    registration_dismissed,
    reserve_project_converted,
)
from workflows.integration_steps import next_working_instant

TQ = "ts-grid-connection"


def prefix() -> str:
    return f"T{uuid.uuid4().hex[:10].upper()}"


async def test_reserve_project_reminds_after_the_pack_interval_then_converts(
    ts_env: WorkflowEnvironment, ts_worker: Worker, session_engine: Engine
) -> None:
    handle = await reserve_project_converted(ts_env, TQ, prefix())
    done = ReserveProjectStatus.model_validate(await handle.result())
    assert done.state == "converted" and done.application_no == f"rsv-{done.project_id}"
    # The reminder falls 20 working days (the pack's interval) after the follow-up.
    start = await _start_input(handle)
    calendar = Calendar.from_snapshot(start.calendar)
    assert done.reminders[0] == next_working_instant(
        calendar, done.follow_ups[0].at, start.follow_up_every
    )
    assert calendar.workdays_between(done.follow_ups[0].at.date(), done.reminders[0].date()) == 20
    app = ts_env.client.get_workflow_handle(workflow_id(done.application_no or ""))
    assert (await app.describe()).status is not None
    with Session(session_engine) as s:
        row = s.get(ReserveProjectRow, done.project_id)
        assert row is not None and row.state == "converted" and row.reminders == 1


async def test_registration_reminds_every_interval_until_confirmed(
    ts_env: WorkflowEnvironment, ts_worker: Worker, session_engine: Engine
) -> None:
    handle = await registration_confirmed(ts_env, TQ, prefix())
    done = RegistrationStatus.model_validate(await handle.result())
    assert done.state == "confirmed" and done.stages == ["装表送电"]
    start = await _start_input(handle)
    calendar = Calendar.from_snapshot(start.calendar)
    assert done.reminders[0] == next_working_instant(
        calendar, done.received_at, start.confirm_within
    )
    assert done.reminders[1] == next_working_instant(
        calendar, done.reminders[0], start.confirm_within
    )
    with Session(session_engine) as s:
        row = s.get(RegistrationRow, done.registration_no)
        assert row is not None and row.application_no == f"reg-{done.registration_no}"


async def test_a_dismissed_registration_starts_nothing(
    ts_env: WorkflowEnvironment, ts_worker: Worker
) -> None:
    handle = await registration_dismissed(ts_env, TQ, prefix())
    done = RegistrationStatus.model_validate(await handle.result())
    assert done.state == "dismissed" and done.application_no is None and not done.reminders


async def test_a_permit_for_no_application_is_kept_as_missing(
    ts_env: WorkflowEnvironment, ts_worker: Worker
) -> None:
    handle = await permit_without_application(ts_env, TQ, prefix())
    assert (await handle.result()).outcome == "missing"


async def _start_input(handle: WorkflowHandle[Any, Any]) -> Any:
    """The start input, as the history recorded it."""
    history = await handle.fetch_history()
    attrs = history.events[0].workflow_execution_started_event_attributes
    kind = attrs.workflow_type.name
    target = ReserveProjectStart if kind == "ReserveProject" else RegistrationStart
    [value] = await pydantic_data_converter.decode(attrs.input.payloads, [target])
    return value
