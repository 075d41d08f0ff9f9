"""Dispatch's endpoints for the outage plans (停送电计划): list and read them, approve or reject
one (the 送(停)电计划反馈 of every application it carries), and the plans as an iCalendar feed.

The outages are read from the read model; an answer goes to each carried application's
workflow as its `answer_outage` update (an approval records outage_plan.completed there, a
rejection schedules the application again), and only then is the outage's state written.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from icalendar import Calendar as ICalendar
from icalendar import Event as IEvent
from pydantic import AfterValidator, BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.audit import audit
from api.auth import ActorDep, CurrentUser, UnitScope, require
from api.deps import EngineDep, SettingsDep, TemporalDep
from api.errors import raise_if_unavailable, update_rejected
from api.instants import localised, zone_of
from api.problems import problems
from api.routes.applications import _handle
from contracts.application import APPLICATION_NO_PATTERN
from contracts.outages import (
    ApproveOutageRequest,
    OutageAnswer,
    OutageRecord,
    RejectOutageRequest,
)
from core.access import Principal, answers_for
from policies.profile import Instant, require_aware
from readmodel.outages import (
    OutagePublic,
    get_outage,
    list_outages,
    set_state,
    waiting_applications,
)
from workflows.connection_application import ConnectionApplication

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["outages"])
READ = [require("outages.read")]
SCHEDULE = [require("outages.schedule")]

OutageId = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", description="The outage's id")
]
StateFilter = Literal["proposed", "submitted", "approved", "rejected", "done", "cancelled"]
#: Who may answer: dispatch answers an outage with dispatch's plan still open.
APPROVABLE = ("submitted", "approved")
REJECTABLE = ("submitted", "approved", "rejected")
DISPATCH = "dispatch"
ICS_STATUS = {
    "proposed": "TENTATIVE",
    "submitted": "TENTATIVE",
    "approved": "CONFIRMED",
    "rejected": "CANCELLED",
    "cancelled": "CANCELLED",
    "done": "CONFIRMED",
}


class OutagePage(BaseModel):
    items: list[OutagePublic]


class OutageRejection(BaseModel):
    """The rejected outage, and the outage each of its applications was scheduled in since."""

    outage: OutagePublic
    rescheduled: dict[str, OutageRecord]


def _shown(o: OutagePublic, fallback: str) -> OutagePublic:
    """The outage with its instants in its unit's zone."""
    return localised(o, zone_of(o.unit, fallback))


def _filters(
    unit: str | None,
    feeder: str | None,
    application: str | None,
    start: datetime | None,
    end: datetime | None,
    state: str | None,
) -> dict[str, Any]:
    if start is not None and end is not None and end <= start:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={"field": "to", "reason": "must be after from", "location": "query"},
        )
    return {
        "unit": unit,
        "feeder": feeder,
        "application": application,
        "start": start,
        "end": end,
        "state": state,
    }


Feeder = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")]
Application = Annotated[str | None, Query(pattern=APPLICATION_NO_PATTERN)]
# RFC 3339 with an offset: pydantic alone would also read a number as a Unix time.
From = Annotated[
    Instant | None,
    AfterValidator(require_aware),
    Query(alias="from", description="Outages ending after (RFC 3339, with an offset)"),
]
To = Annotated[
    Instant | None,
    AfterValidator(require_aware),
    Query(alias="to", description="Outages starting before (RFC 3339, with an offset)"),
]
State = Annotated[StateFilter | None, Query()]


@router.get("/outages", response_model=OutagePage, responses=problems(422), dependencies=READ)
def outages(
    engine: EngineDep,
    settings: SettingsDep,
    unit: UnitScope,
    feeder: Feeder = None,
    application: Application = None,
    start: From = None,
    end: To = None,
    state: State = None,
) -> OutagePage:
    """Planned outages by unit (and the units under it), feeder, application, window and
    state, in the order of their start (live-line work, which takes no outage, included)."""
    found = _filters(unit, feeder, application, start, end, state)
    items = [_shown(o, settings.timezone) for o in list_outages(engine, **found)]
    return OutagePage(items=items)


@router.get(
    "/outages.ics",
    dependencies=READ,
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "Dispatch's outage calendar"},
        **problems(422),
    },
)
def outages_calendar(
    engine: EngineDep,
    unit: UnitScope,
    feeder: Feeder = None,
    application: Application = None,
    start: From = None,
    end: To = None,
    state: State = None,
) -> Response:
    """The same outages as an iCalendar (RFC 5545) feed for dispatch's calendar: one event per
    outage, tentative until approved, cancelled when rejected or cancelled."""
    found = list_outages(engine, **_filters(unit, feeder, application, start, end, state))
    cal = ICalendar()
    cal.add("prodid", "-//grid-connection//outage plans//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "停送电计划")
    for o in found:
        if o.start_at is None or o.end_at is None:
            continue
        cal.add_component(_event(o))
    return Response(
        cal.to_ical(),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="outages.ics"'},
    )


def _event(o: OutagePublic) -> IEvent:
    event = IEvent()
    event.add("uid", f"{o.id}@grid-connection")
    event.add("dtstamp", o.updated_at.astimezone(UTC))
    event.add("dtstart", o.start_at)
    event.add("dtend", o.end_at)
    what = "不停电作业" if o.tier == "live_line" else "计划停电"
    event.add("summary", f"{what} {o.feeder or ''} ({o.tier}, {o.state})".replace("  ", " "))
    event.add("status", ICS_STATUS.get(o.state, "TENTATIVE"))
    lines = [
        f"applications: {', '.join(o.applications)}",
        f"affected customers: {len(o.affected_customers)}",
        *o.explanation,
    ]
    if o.reason:
        lines.append(f"reason: {o.reason}")
    event.add("description", "\n".join(lines))
    event.add("categories", [o.tier])
    return event


def _not_found(outage_id: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND,
        detail={"field": "outage_id", "reason": f"no outage {outage_id}"},
    )


def _answering(user: Principal) -> None:
    """The answer is dispatch's: a coordinator of another department may not give it (a
    connection specialist may record it for dispatch)."""
    if user.may("notices.answer") and not answers_for(user, DISPATCH):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail={
                "type": "forbidden",
                "field": "department",
                "reason": f"an outage is answered by {DISPATCH}, not {user.department}",
            },
        )


def _outage(engine: Any, outage_id: str, user: Principal) -> OutagePublic:
    """The outage if the caller's scope covers its unit; 404 otherwise, so that another unit's
    outage does not show that it exists."""
    found = get_outage(engine, outage_id)
    if found is None or not user.sees(found.unit):
        raise _not_found(outage_id)
    return found


@router.get(
    "/outages/{outage_id}",
    response_model=OutagePublic,
    responses=problems(404, 422),
    dependencies=READ,
)
def outage(
    outage_id: OutageId, engine: EngineDep, settings: SettingsDep, user: CurrentUser
) -> OutagePublic:
    """One outage: tier, feeder, window, state, the applications and other jobs it carries,
    the affected customers, when they were told, and how the slot was chosen."""
    return _shown(_outage(engine, outage_id, user), settings.timezone)


def _conflict(o: OutagePublic, allowed: tuple[str, ...]) -> HTTPException:
    return HTTPException(
        status.HTTP_409_CONFLICT,
        detail={
            "type": "conflict",
            "field": "state",
            "reason": f"outage {o.id} is {o.state} (answerable when {', '.join(allowed)})",
        },
    )


async def _answer(temporal: Client, application_no: str, answer: OutageAnswer) -> OutageRecord:
    handle = _handle(temporal, application_no)
    try:
        record: OutageRecord = await handle.execute_update(
            ConnectionApplication.answer_outage, answer
        )
    except WorkflowUpdateFailedError as exc:
        raise update_rejected(exc) from exc
    except Exception as exc:
        if isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail={
                    "type": "conflict",
                    "field": "applications",
                    "reason": f"application {application_no} has no workflow",
                },
            ) from exc
        raise_if_unavailable(exc)
        raise
    return record


@router.post(
    "/outages/{outage_id}/approve",
    dependencies=SCHEDULE,
    response_model=OutagePublic,
    responses=problems(404, 409, 422, 503),
)
async def approve_outage(
    outage_id: OutageId,
    body: ApproveOutageRequest,
    engine: EngineDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    who: ActorDep,
    user: CurrentUser,
) -> OutagePublic:
    """Dispatch approves the outage: each application it carries records its 送(停)电计划反馈
    (outage_plan.completed, where the stage applies). Repeating it is harmless."""
    o = _outage(engine, outage_id, user)
    _answering(user)
    if o.state not in APPROVABLE:
        raise _conflict(o, APPROVABLE)
    at = datetime.now(UTC)
    for no in waiting_applications(engine, outage_id):
        await _answer(
            temporal,
            no,
            OutageAnswer(outage_id=outage_id, decision="approved", at=at, by=body.by,
                         reason=body.note),
        )  # fmt: skip
    updated = set_state(engine, outage_id, "approved", at, from_states=APPROVABLE, by=body.by)
    assert updated is not None
    audit(engine, who, "outage.approve", target=outage_id)
    log.info("outage %s approved for %d application(s)", outage_id, len(updated.applications))
    return _shown(updated, settings.timezone)


@router.post(
    "/outages/{outage_id}/reject",
    dependencies=SCHEDULE,
    response_model=OutageRejection,
    responses=problems(404, 409, 422, 503),
)
async def reject_outage(
    outage_id: OutageId,
    body: RejectOutageRequest,
    engine: EngineDep,
    settings: SettingsDep,
    temporal: TemporalDep,
    who: ActorDep,
    user: CurrentUser,
) -> OutageRejection:
    """Dispatch rejects the outage (with its reason): it is closed first, so that nobody joins
    it, then each application it carries is scheduled again (a new slot, and a correction to
    the customers already told). Repeating it re-delivers the rejection harmlessly."""
    o = _outage(engine, outage_id, user)
    _answering(user)
    if o.state not in REJECTABLE:
        raise _conflict(o, REJECTABLE)
    at = datetime.now(UTC)
    rejected = set_state(
        engine, outage_id, "rejected", at, from_states=REJECTABLE, by=body.by, reason=body.reason
    )
    assert rejected is not None
    again: dict[str, OutageRecord] = {}
    for no in waiting_applications(engine, outage_id):
        answer = OutageAnswer(
            outage_id=outage_id, decision="rejected", at=at, by=body.by, reason=body.reason
        )
        record = await _answer(temporal, no, answer)
        again[no] = localised(record, zone_of(o.unit, settings.timezone))
    audit(engine, who, "outage.reject", target=outage_id)
    log.info("outage %s rejected; %d application(s) scheduled again", outage_id, len(again))
    shown = _shown(_outage(engine, outage_id, user), settings.timezone)
    return OutageRejection(outage=shown, rescheduled=again)
