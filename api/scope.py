"""Unit scope for one application: another unit's application answers 404, as if it did not
exist, so that its existence does not leak (docs/access.md).

The application's unit and customer manager come from its read-model row, or, before the
workflow has written it, from the workflow's search attributes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, status
from temporalio.service import RPCError, RPCStatusCode

from api.auth import CurrentUser
from api.deps import SessionDep, TemporalDep
from api.errors import raise_if_unavailable
from contracts import search_attributes as sa
from contracts.application import APPLICATION_NO_PATTERN, workflow_id
from readmodel.applications import ApplicationRow

ApplicationNoPath = Annotated[
    str, Path(pattern=APPLICATION_NO_PATTERN, description="The application number")
]


async def application_owner(
    application_no: str, session: SessionDep, temporal: TemporalDep
) -> tuple[str | None, str | None] | None:
    """(unit, customer manager) of the application, or None when there is none."""
    row = session.get(ApplicationRow, application_no)
    if row is not None:
        return row.unit, row.customer_manager
    try:
        desc = await temporal.get_workflow_handle(workflow_id(application_no)).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise_if_unavailable(exc)
        raise
    except Exception as exc:
        raise_if_unavailable(exc)
        raise
    attrs = desc.typed_search_attributes
    return attrs.get(sa.UNIT), attrs.get(sa.CUSTOMER_MANAGER)


def _hidden(application_no: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND,
        detail={"field": "application_no", "reason": f"no application {application_no}"},
    )


async def readable_application(
    application_no: ApplicationNoPath,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
) -> None:
    if user.superuser:
        return
    owner = await application_owner(application_no, session, temporal)
    if owner is not None and not user.sees(*owner):
        raise _hidden(application_no)


async def writable_application(
    application_no: ApplicationNoPath,
    user: CurrentUser,
    session: SessionDep,
    temporal: TemporalDep,
) -> None:
    """Seen, and changeable: customer managers change only the applications they manage or
    their own unit's (403 for the rest of what they see)."""
    if user.superuser:
        return
    owner = await application_owner(application_no, session, temporal)
    if owner is None:
        return  # the route answers its own 404
    if not user.sees(*owner):
        raise _hidden(application_no)
    if not user.writes(*owner):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail={
                "type": "forbidden",
                "field": "application_no",
                "reason": "a customer manager changes only the applications they manage or "
                "of their own unit",
            },
        )


#: For `dependencies=[...]` of a route with an `{application_no}` path parameter.
READABLE = Depends(readable_application)
WRITABLE = Depends(writable_application)
