"""The SMS outbox as staff see it: every queued, sent or failed message, counts by state, and
the roles nobody could be found for (undeliverable recipients)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel
from sqlmodel import Session, col, select

from api.audit import audit
from api.auth import ActorDep, UnitScope, require
from api.deps import EngineDep, SessionDep, SettingsDep, TemporalDep
from api.errors import is_unavailable, temporal_unavailable
from api.instants import localised, zone_of
from api.problems import problems
from api.schemas import MAX_OFFSET, QueryCode
from contracts.application import WarningLevel
from domain.notifications.windows import SendWindows
from readmodel.applications import ApplicationRow
from readmodel.outbox_queue import OutboxQueue, outbox_page
from workflows.sms_dispatcher import DISPATCHER_ID, SmsDispatcher

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


class NotificationPublic(BaseModel):
    id: int
    application_no: str
    kind: str
    monitor: str
    code: str
    level: str
    phone: str
    role: str
    roles: list[str]
    staff_code: str | None
    message: str
    state: str
    attempts: int
    send_after: datetime
    send_before: datetime
    sent_at: datetime | None
    created_at: datetime
    gateway_answer: str | None
    last_error: str | None


class UndeliverablePublic(BaseModel):
    application_no: str
    unit: str
    monitor: str
    level: str
    role: str
    department: str
    reason: str
    created_at: datetime


class NotificationCounts(BaseModel):
    """Messages by state, over the same filters except `state`."""

    pending: int = 0
    sent: int = 0
    failed: int = 0


class NotificationPage(BaseModel):
    items: list[NotificationPublic]
    counts: NotificationCounts
    #: Roles the policy names that nobody holds (same application filter).
    undeliverable: list[UndeliverablePublic]
    total: int
    offset: int
    limit: int


@router.get(
    "",
    response_model=NotificationPage,
    responses=problems(422),
    dependencies=[require("notifications.read")],
)
def list_notifications(
    session: SessionDep,
    settings: SettingsDep,
    unit: UnitScope,
    application: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    state: Literal["pending", "sent", "failed"] | None = None,
    phone_suffix: Annotated[str | None, Query(pattern=r"^[0-9]{1,11}$")] = None,
    monitor: QueryCode = None,
    level: WarningLevel | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> NotificationPage:
    page = outbox_page(
        session,
        unit=unit,
        application=application,
        state=state,
        phone_suffix=phone_suffix,
        monitor=monitor,
        level=level,
        offset=offset,
        limit=limit,
    )
    zones = _zones(session, {r.application_no for r in page.rows}, settings.timezone)
    return NotificationPage(
        items=[
            localised(
                NotificationPublic.model_validate(r, from_attributes=True),
                zones.get(r.application_no, zone_of(None, settings.timezone)),
            )
            for r in page.rows
        ],
        counts=NotificationCounts(**page.counts),
        undeliverable=[
            localised(
                UndeliverablePublic.model_validate(u, from_attributes=True),
                zone_of(u.unit, settings.timezone),
            )
            for u in page.undeliverable
        ],
        total=page.total,
        offset=offset,
        limit=limit,
    )


def _zones(session: Session, numbers: set[str], fallback: str) -> dict[str, ZoneInfo]:
    """Each application's zone, by its unit in the read model."""
    if not numbers:
        return {}
    units = session.exec(
        select(ApplicationRow.application_no, ApplicationRow.unit).where(
            col(ApplicationRow.application_no).in_(numbers)
        )
    ).all()
    return {no: zone_of(unit, fallback) for no, unit in units}


class Requeued(BaseModel):
    requeued: int


@router.post(
    "/requeue",
    response_model=Requeued,
    responses=problems(403, 422),
    dependencies=[require("notifications.requeue")],
)
def requeue_failed(
    engine: EngineDep,
    settings: SettingsDep,
    who: ActorDep,
    application: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Requeued:
    """Put failed messages (gateway refusals, attempts exhausted) back in the queue for the
    next send window, e.g. once the gateway's configuration is repaired."""
    windows = SendWindows(settings.sms_progress_hours)
    requeued = OutboxQueue(engine).requeue_failed(datetime.now(UTC), windows, application)
    if requeued:
        log.info("requeued %d failed SMS", requeued)
    audit(engine, who, "notifications.requeue", application, detail={"requeued": str(requeued)})
    return Requeued(requeued=requeued)


class Woken(BaseModel):
    workflow_id: str


@router.post(
    "/dispatch",
    response_model=Woken,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(403, 404, 503),
    dependencies=[require("notifications.requeue")],
)
async def wake_dispatcher(temporal: TemporalDep) -> Woken:
    """Ask the dispatcher to look at the outbox now (e.g. after a gateway was repaired).
    Messages still leave only inside their send windows."""
    try:
        await temporal.get_workflow_handle(DISPATCHER_ID).signal(SmsDispatcher.wake)
    except Exception as exc:
        if is_unavailable(exc):
            raise temporal_unavailable(exc) from None
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail={"reason": "the SMS dispatcher is not running (the worker starts it)"},
        ) from None
    return Woken(workflow_id=DISPATCHER_ID)
