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


#: Seconds a client should wait before retrying a 503: the lazy client reconnects by itself.
RETRY_AFTER_S = 5


def temporal_unavailable(exc: BaseException) -> HTTPException:
    log.warning("Temporal unreachable: %s", type(exc).__name__)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail={"type": "unavailable", "reason": "the Temporal server is unreachable"},
        headers={"Retry-After": str(RETRY_AFTER_S)},
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


def update_rejected(exc: WorkflowUpdateFailedError, field: str = "state") -> HTTPException:
    """A refusal by the workflow: 422 when the request itself is wrong, 409 when it clashes
    with the application's state. Nothing was recorded either way. A refusal whose message
    names no field is about `field` (what the update clashes with, e.g. `paused`)."""
    cause = exc.cause
    if not isinstance(cause, ApplicationError):
        return HTTPException(
            status.HTTP_409_CONFLICT, detail={"field": field, "reason": str(cause)}
        )
    head, sep, reason = cause.message.partition(": ")
    detail = (
        {"field": head, "reason": reason}
        if sep and " " not in head
        else {"field": field, "reason": cause.message}
    )
    code = (
        status.HTTP_422_UNPROCESSABLE_CONTENT
        if cause.type == "EventRefused"
        else status.HTTP_409_CONFLICT
    )
    return HTTPException(code, detail=detail)
