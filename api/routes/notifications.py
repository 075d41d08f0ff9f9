"""The SMS outbox as staff see it: every queued, sent or failed message, counts by state, and
the roles nobody could be found for (undeliverable recipients)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, HTTPException, Query, status
from pydantic import BaseModel

from api.deps import EngineDep, SessionDep, SettingsDep, TemporalDep
from api.errors import is_unavailable, temporal_unavailable
from api.routes.staff import require_admin
from domain.notifications.windows import SendWindows
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


class NotificationPage(BaseModel):
    items: list[NotificationPublic]
    #: By state, over the same filters except `state`.
    counts: dict[str, int]
    #: Roles the policy names that nobody holds (same application filter).
    undeliverable: list[UndeliverablePublic]
    total: int
    offset: int
    limit: int


@router.get("", response_model=NotificationPage)
def list_notifications(
    session: SessionDep,
    application: Annotated[str | None, Query(max_length=64)] = None,
    state: Literal["pending", "sent", "failed"] | None = None,
    phone_suffix: Annotated[str | None, Query(pattern=r"^[0-9]{1,11}$")] = None,
    monitor: str | None = None,
    level: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> NotificationPage:
    page = outbox_page(
        session,
        application=application,
        state=state,
        phone_suffix=phone_suffix,
        monitor=monitor,
        level=level,
        offset=offset,
        limit=limit,
    )
    return NotificationPage(
        items=[NotificationPublic.model_validate(r, from_attributes=True) for r in page.rows],
        counts=page.counts,
        undeliverable=[
            UndeliverablePublic.model_validate(u, from_attributes=True) for u in page.undeliverable
        ],
        total=page.total,
        offset=offset,
        limit=limit,
    )


class Requeued(BaseModel):
    requeued: int


@router.post("/requeue", response_model=Requeued)
def requeue_failed(
    engine: EngineDep,
    settings: SettingsDep,
    application: Annotated[str | None, Query(max_length=64)] = None,
    x_admin_token: Annotated[str | None, Header()] = None,
) -> Requeued:
    """Put failed messages (gateway refusals, attempts exhausted) back in the queue for the
    next send window, e.g. once the gateway's configuration is repaired."""
    require_admin(settings, x_admin_token, "requeueing messages")
    windows = SendWindows(settings.sms_progress_hours)
    requeued = OutboxQueue(engine).requeue_failed(datetime.now(UTC), windows, application)
    if requeued:
        log.info("requeued %d failed SMS", requeued)
    return Requeued(requeued=requeued)


class Woken(BaseModel):
    workflow_id: str


@router.post("/dispatch", response_model=Woken, status_code=status.HTTP_202_ACCEPTED)
async def wake_dispatcher(
    temporal: TemporalDep,
    settings: SettingsDep,
    x_admin_token: Annotated[str | None, Header()] = None,
) -> Woken:
    """Ask the dispatcher to look at the outbox now (e.g. after a gateway was repaired).
    Messages still leave only inside their send windows."""
    require_admin(settings, x_admin_token, "waking the SMS dispatcher")
    try:
        await temporal.get_workflow_handle(DISPATCHER_ID).signal(SmsDispatcher.wake)
    except Exception as exc:
        if is_unavailable(exc):
            raise temporal_unavailable(exc) from None
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail={"reason": "the SMS dispatcher is not running"}
        ) from None
    return Woken(workflow_id=DISPATCHER_ID)
