"""Turning Temporal failures into HTTP answers that name the cause and leak nothing personal."""

from __future__ import annotations

import logging

from fastapi import HTTPException, status
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from contracts.errors import REFUSAL_ERROR_TYPE, Refusal

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


def update_rejected(exc: WorkflowUpdateFailedError) -> HTTPException:
    """A refusal by the workflow (contracts.errors): 422 when the request itself is wrong, 409
    when it clashes with the application's state or the application is closed. Nothing was
    recorded either way."""
    cause = exc.cause
    found = (
        Refusal.from_details(cause.details)
        if isinstance(cause, ApplicationError) and cause.type == REFUSAL_ERROR_TYPE
        else None
    )
    if found is None:
        # Not a refusal (a failure the workflow did not foresee): nothing was recorded.
        reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
        found = Refusal.one("conflict", "request", reason or "the update failed")
    return refused(found)


def refused(refusal: Refusal) -> HTTPException:
    """The refusal as the API answers it: its type and its `errors` list, as the workflow
    gave them."""
    code = (
        status.HTTP_422_UNPROCESSABLE_CONTENT
        if refusal.type == "invalid"
        else status.HTTP_409_CONFLICT
    )
    return HTTPException(
        code, detail={"type": refusal.type, "errors": [e.model_dump() for e in refusal.errors]}
    )
