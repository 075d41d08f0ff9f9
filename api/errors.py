"""Turning Temporal failures into HTTP answers that name the cause and leak nothing personal."""

from __future__ import annotations

import logging

from fastapi import HTTPException, status
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger(__name__)

_UNAVAILABLE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
}


def temporal_unavailable(exc: BaseException) -> HTTPException:
    log.warning("Temporal unreachable: %s", type(exc).__name__)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail={"service": "temporal", "reason": "the Temporal server is unreachable"},
    )


def raise_if_unavailable(exc: BaseException) -> None:
    """Re-raise a failure to reach Temporal as the API's 503; leave anything else alone."""
    if is_unavailable(exc):
        raise temporal_unavailable(exc) from exc


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, RPCError):
        return exc.status in _UNAVAILABLE
    # A lazy client that cannot connect raises a plain RuntimeError from the core bridge.
    return isinstance(exc, RuntimeError) and "connect" in str(exc).lower()


def update_rejected(exc: WorkflowUpdateFailedError) -> HTTPException:
    """A refusal by the workflow: 422 when the request itself is wrong, 409 when it clashes
    with the application's state. Nothing was recorded either way."""
    cause = exc.cause
    if not isinstance(cause, ApplicationError):
        return HTTPException(status.HTTP_409_CONFLICT, detail={"reason": str(cause)})
    field, sep, reason = cause.message.partition(": ")
    detail = (
        {"field": field, "reason": reason}
        if sep and " " not in field
        else {"reason": cause.message}
    )
    code = (
        status.HTTP_422_UNPROCESSABLE_CONTENT
        if cause.type == "EventRefused"
        else status.HTTP_409_CONFLICT
    )
    return HTTPException(code, detail=detail)
