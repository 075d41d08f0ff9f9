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


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, RPCError):
        return exc.status in _UNAVAILABLE
    # A lazy client that cannot connect raises a plain RuntimeError from the core bridge.
    return isinstance(exc, RuntimeError) and "connect" in str(exc).lower()


def update_rejected(exc: WorkflowUpdateFailedError) -> HTTPException:
    cause = exc.cause
    reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
    return HTTPException(status.HTTP_409_CONFLICT, detail={"reason": reason})
