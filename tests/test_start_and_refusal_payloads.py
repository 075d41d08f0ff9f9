"""Payload contracts that old histories and other processes rely on: the start input carries no
test setting, the carried state keeps its shape, and a refusal reaches the API as a value."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import status
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.errors import update_rejected
from contracts.application import ApplicationStart
from contracts.errors import REFUSAL_ERROR_TYPE, Refusal, refusal_error
from domain.start import start_input
from tests.scenarios import application
from workflows.writer import ChangeWriter

HISTORIES = Path(__file__).parent / "histories"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def recorded_start(name: str) -> dict[str, Any]:
    history = json.loads((HISTORIES / f"{name}.json").read_text())
    attrs = history["events"][0]["workflowExecutionStartedEventAttributes"]
    data: dict[str, Any] = json.loads(base64.b64decode(attrs["input"]["payloads"][0]["data"]))
    return data


def test_the_start_input_carries_no_test_setting() -> None:
    start = start_input(application("PAY0001", T0))
    start.continue_as_new_after = 30
    assert "continue_as_new_after" not in json.loads(start.model_dump_json())


def test_a_start_recorded_with_the_test_setting_still_reads_it() -> None:
    """Histories recorded while tests put it in the start input replay with it."""
    start = ApplicationStart.model_validate(recorded_start("continued_as_new"))
    assert start.continue_as_new_after == 30


def test_the_outbox_cursors_travel_in_the_carried_state_as_before() -> None:
    """The workflow takes its cursors from the carried state and writes them back in the same
    fields, so the next run (and an older worker) reads them where it always did."""
    start = ApplicationStart.model_validate(recorded_start("continued_as_new_one_write"))
    assert start.carried is not None and start.carried.projected_timeline > 0
    writer = ChangeWriter.carried_from(start)
    stripped = start.carried.model_copy(
        update={"projected_timeline": 0, "notified_warnings": 0, "progress_sent": []}
    )
    assert writer.carry(stripped).model_dump(mode="json") == start.carried.model_dump(mode="json")


def rejected(cause: BaseException) -> tuple[int, Any]:
    exc = update_rejected(WorkflowUpdateFailedError(cause))
    return exc.status_code, exc.detail


def test_the_api_reads_the_refusal_from_the_errors_details() -> None:
    invalid = Refusal.one("invalid", "at", "2030-01-01T00:00:00+08:00 is in the future")
    error = refusal_error(invalid)
    assert (error.type, error.non_retryable) == (REFUSAL_ERROR_TYPE, True)
    # As the client decodes it: the details without a type hint are plain data.
    decoded = ApplicationError(error.message, invalid.model_dump(), type=error.type)
    assert rejected(decoded) == (
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        {
            "type": "invalid",
            "errors": [{"field": "at", "reason": "2030-01-01T00:00:00+08:00 is in the future"}],
        },
    )
    closed = Refusal.one("closed", "application_no", "the application is cancelled")
    assert rejected(refusal_error(closed))[0] == status.HTTP_409_CONFLICT


def test_a_failure_that_is_no_refusal_is_a_conflict_naming_the_request() -> None:
    code, detail = rejected(ApplicationError("something else", type="Other"))
    assert code == status.HTTP_409_CONFLICT
    assert detail == {
        "type": "conflict",
        "errors": [{"field": "request", "reason": "something else"}],
    }
