"""Publishing calendar data to running applications (docs/workflow.md, "Calendar changes")."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from temporalio.service import RPCError, RPCStatusCode

from api.audit import audit
from api.auth import ActorDep, require
from api.deps import EngineDep, SettingsDep, TemporalDep
from api.errors import raise_if_unavailable
from api.problems import problems
from calendars import CalendarDataError, CalendarSnapshot, get_calendar, reload
from contracts.calendar_publication import (
    PublicationState,
    PublishRequest,
    publication_id,
    publisher_id,
)
from readmodel.calendar_publication import (
    CalendarPublicationPublic,
    get_publication,
    record_request,
)
from workflows.calendar_publisher import request_publication

router = APIRouter(prefix="/api/calendars", tags=["calendars"])
log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


class Publication(BaseModel):
    region: str
    version: str
    published_years: list[int]
    #: False: this version is already published, or already being published; nothing new
    #: was started.
    changed: bool
    state: PublicationState
    publication_id: str
    #: The region's CalendarPublisher workflow (Temporal UI shows its progress).
    publisher_workflow_id: str


@router.post(
    "/{region}/publish",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=Publication,
    responses={
        200: {
            "model": Publication,
            "description": "unchanged: this version is already published or being published",
        },
        202: {"description": "a publication of this version started, or is queued behind one"},
        **problems(403, 404, 422, 503),
    },
    dependencies=[require("calendars.publish")],
)
async def publish(
    region: str,
    response: Response,
    temporal: TemporalDep,
    settings: SettingsDep,
    engine: EngineDep,
    who: ActorDep,
) -> Publication:
    """Re-read the calendar data files and send the region's calendar to every running
    application, which recomputes its pending deadlines (elapsed time stays elapsed).

    Idempotent: a version already published, or already being published, changes nothing
    (200, `changed: false`). A new version answers 202 at once; the region's
    CalendarPublisher workflow signals the running applications page by page. Publishes are
    serialised there: a newer version while one is being published is queued, and the newest
    is then published to every application. Progress: `GET /api/calendars/{region}/publication`.
    """
    requested_at = datetime.now(UTC)
    reload()
    snapshot = _snapshot(region)
    await run_in_threadpool(
        audit, engine, who, "calendar.publish", target=snapshot.region,
        detail={"version": snapshot.version},
    )  # fmt: skip
    row = await run_in_threadpool(get_publication, engine, snapshot.region)
    if row is not None and row.is_published(snapshot.version):
        response.status_code = status.HTTP_200_OK
        return _answer(snapshot, changed=False, state="published")
    # Of concurrent publishes of one version, one claims it; the others answer unchanged.
    claimed = await run_in_threadpool(
        record_request, engine, snapshot.region, snapshot.version, requested_at
    )
    try:
        # Also when not claimed: harmless (the publisher ignores a version it has), and it
        # restarts a publisher that an operator terminated or a failed signal never started.
        await request_publication(
            temporal,
            settings.temporal_task_queue,
            PublishRequest(snapshot=snapshot, requested_at=requested_at),
        )
    except RPCError as exc:
        raise_if_unavailable(exc)
        if exc.status == RPCStatusCode.RESOURCE_EXHAUSTED:
            raise _busy() from exc
        raise
    except Exception as exc:
        raise_if_unavailable(exc)
        raise
    if not claimed:
        response.status_code = status.HTTP_200_OK
        return _answer(snapshot, changed=False, state="publishing")
    log.info("calendar %s %s: publication requested", snapshot.region, snapshot.version)
    return _answer(snapshot, changed=True, state="publishing")


@router.get(
    "/{region}/publication",
    response_model=CalendarPublicationPublic,
    responses=problems(404),
    dependencies=[require("reference.read")],
)
def publication(region: str, engine: EngineDep) -> CalendarPublicationPublic:
    """What was last published for the region, and the progress of a publication running."""
    row = get_publication(engine, region)
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail={"field": "region", "reason": f"nothing published for {region.upper()} yet"},
        )
    return CalendarPublicationPublic.model_validate(row, from_attributes=True)


def _busy() -> HTTPException:
    """The server refused for load (its rate limits): nothing was sent; the request can be
    repeated as it is, since publishing is idempotent."""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail={"service": "temporal", "reason": "the Temporal server is busy: retry later"},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _snapshot(region: str) -> CalendarSnapshot:
    try:
        return get_calendar(region.upper()).snapshot()
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


def _answer(snapshot: CalendarSnapshot, *, changed: bool, state: PublicationState) -> Publication:
    return Publication(
        region=snapshot.region,
        version=snapshot.version,
        published_years=list(snapshot.published_years),
        changed=changed,
        state=state,
        publication_id=publication_id(snapshot.region, snapshot.version),
        publisher_workflow_id=publisher_id(snapshot.region),
    )
