"""Publishing calendar data to running applications."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status
from pydantic import BaseModel
from temporalio.api.batch.v1 import BatchOperationSignal
from temporalio.api.common.v1 import Payloads
from temporalio.api.workflowservice.v1 import StartBatchOperationRequest

from api.deps import SettingsDep, TemporalDep
from api.errors import raise_if_unavailable
from api.problems import problems
from calendars import CalendarDataError, get_calendar, reload
from workflows.connection_application import ConnectionApplication

router = APIRouter(prefix="/api/calendars", tags=["calendars"])
log = logging.getLogger(__name__)

RUNNING_APPLICATIONS = "WorkflowType = 'ConnectionApplication' AND ExecutionStatus = 'Running'"


class Published(BaseModel):
    region: str
    version: str
    published_years: list[int]
    #: The server-side batch job signalling every running application (see `temporal batch`).
    batch_job_id: str


@router.post("/{region}/publish", response_model=Published, responses=problems(403, 404, 422, 503))
async def publish(
    region: str,
    temporal: TemporalDep,
    settings: SettingsDep,
    x_admin_token: Annotated[str | None, Header()] = None,
) -> Published:
    """Re-read the calendar data files and send the region's calendar to every running
    application, which recomputes its pending deadlines (elapsed time stays elapsed).

    The signal goes out as one Temporal batch operation: the server carries it through even if
    this process dies, and applications ignore a version they already have, so publishing
    twice is harmless.
    """
    if settings.admin_token is not None and (
        x_admin_token is None or x_admin_token != settings.admin_token.get_secret_value()
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail={
                "field": "x-admin-token",
                "reason": "publishing calendars needs the admin token",
            },
        )
    reload()
    try:
        cal = get_calendar(region.upper())
    except CalendarDataError as exc:
        # The files are wrong: refuse before anything is sent.
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={"field": "calendar data", "reason": str(exc)},
        ) from exc
    except ValueError as exc:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail={"field": "region", "reason": str(exc)}
        ) from exc
    snapshot = cal.snapshot()
    payloads = await temporal.data_converter.encode([snapshot])
    job_id = f"calendar-{snapshot.region}-{snapshot.version}-{uuid.uuid4().hex[:8]}"
    signal_name = ConnectionApplication.calendar_updated.__name__
    try:
        await temporal.workflow_service.start_batch_operation(
            StartBatchOperationRequest(
                namespace=temporal.namespace,
                job_id=job_id,
                reason=f"calendar {snapshot.region} {snapshot.version} published",
                visibility_query=RUNNING_APPLICATIONS,
                signal_operation=BatchOperationSignal(
                    signal=signal_name,
                    input=Payloads(payloads=payloads),
                    identity="api/calendars/publish",
                ),
            )
        )
    except Exception as exc:
        raise_if_unavailable(exc)
        raise
    log.info("calendar %s %s published: batch %s", snapshot.region, snapshot.version, job_id)
    return Published(
        region=snapshot.region,
        version=snapshot.version,
        published_years=list(snapshot.published_years),
        batch_job_id=job_id,
    )
