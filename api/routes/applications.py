"""Staff endpoints for applications."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Response, status
from pydantic import BaseModel
from sqlalchemy import ColumnElement
from sqlmodel import col, func, select
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.audit import audit
from api.auth import Actor, ActorDep, CurrentUser, UnitScope, require
from api.deps import EngineDep, SessionDep, SettingsDep, TemporalDep
from api.errors import raise_if_unavailable, refused, update_rejected
from api.instants import localised, zone_of
from api.problems import problems
from api.schemas import MAX_OFFSET, ApplicationCreate, ApplicationCreated, QueryCode
from api.scope import READABLE, WRITABLE
from api.validation import invalid_field
from contracts.application import (
    APPLICATION_NO_PATTERN,
    ApplicationOutcome,
    ApplicationState,
    ApplicationStatus,
    CancelRequest,
    HoldRequest,
    RecordEventRequest,
    UpdateResult,
    WarningLevel,
    workflow_id,
)
from contracts.errors import Refusal
from domain.start import initial_status, start_input
from domain.views import initial_search_attributes, summary
from policies.loader import PolicyError
from readmodel.applications import ApplicationPublic, ApplicationRow
from readmodel.organisation import UnitRow
from workflows.connection_application import ConnectionApplication

log = logging.getLogger(__name__)
_Body = TypeVar("_Body", bound=BaseModel)
OVERDUE_LEVELS = ("yellow", "red")

router = APIRouter(prefix="/api/applications", tags=["applications"])

ApplicationNo = Annotated[
    str, Path(pattern=APPLICATION_NO_PATTERN, description="The application number")
]


class ApplicationPage(BaseModel):
    items: list[ApplicationPublic]
    total: int
    offset: int
    limit: int


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationCreated,
    responses={
        201: {
            "headers": {
                "Location": {
                    "description": "The application's address (as `href`)",
                    "schema": {"type": "string"},
                }
            }
        },
        **problems(403, 409, 422, 503),
    },
    dependencies=[require("applications.create")],
)
async def create_application(
    body: ApplicationCreate,
    temporal: TemporalDep,
    settings: SettingsDep,
    session: SessionDep,
    response: Response,
    user: CurrentUser,
    who: ActorDep,
    engine: EngineDep,
) -> ApplicationCreated:
    """Start an application. The answer is short (its number, state, stage, next due instant
    and its address, also in `Location`); the full status is `GET` on that address."""
    if not user.writes(body.unit, body.customer_manager):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail={
                "type": "forbidden",
                "field": "unit",
                "reason": f"unit {body.unit} is outside the units you may open applications in",
            },
        )
    zone = zone_of(body.unit, settings.timezone)
    now = datetime.now(zone)
    try:
        inp = body.to_input(now)
        start = start_input(inp)
    except PolicyError as exc:
        # The unit was valid, so its pack is broken: an operator's problem, not the caller's.
        log.error("policy pack for %s is invalid: %s", body.unit, exc)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={"type": "unavailable", "reason": f"the policy of unit {body.unit} is invalid"},
        ) from exc
    except ValueError as exc:
        field, _, reason = str(exc).partition(": ")
        raise invalid_field(field, reason or str(exc)) from exc
    # Answered from the same pure code the workflow runs; a query right after the start would
    # wait for the workflow's first task.
    initial = initial_status(start, now)
    unit = session.get(UnitRow, inp.profile.unit)
    # Given back before the start is awaited: the audit takes a connection of its own, which a
    # pool held by as many creations in flight would never free (QueuePool timeout, 500).
    session.close()
    # The workflow is the record: starting it is the one atomic act of creation. The database
    # row is its projection, written by the workflow itself, so nothing can be half-created.
    try:
        await temporal.start_workflow(
            ConnectionApplication.run,
            start,
            id=workflow_id(inp.application_no),
            task_queue=settings.temporal_task_queue,
            # Application numbers are never reused, not even after an application closed.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=initial_search_attributes(inp, initial.stage),
            static_summary=summary(inp, unit.name if unit is not None else None),
        )
    except WorkflowAlreadyStartedError as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={
                "field": "application_no",
                "reason": f"application {inp.application_no} already exists",
            },
        ) from exc
    except Exception as exc:
        raise_if_unavailable(exc)
        raise
    audit(engine, who, "application.create", inp.application_no, target=inp.profile.unit)
    href = f"{router.prefix}/{inp.application_no}"
    response.headers["Location"] = href
    return ApplicationCreated(
        application_no=inp.application_no,
        state=initial.state,
        stage=initial.stage,
        next_due_at=initial.next_due_at.astimezone(zone) if initial.next_due_at else None,
        warning_level=initial.warning_level,
        provisional=initial.provisional,
        href=href,
    )


@router.get(
    "",
    response_model=ApplicationPage,
    responses=problems(404, 422),
    dependencies=[require("applications.read")],
)
def list_applications(
    session: SessionDep,
    settings: SettingsDep,
    unit: UnitScope,
    business_type: QueryCode = None,
    stage: QueryCode = None,
    state: ApplicationState | None = None,
    customer_manager: QueryCode = None,
    warning_level: WarningLevel | None = None,
    overdue: Annotated[
        bool | None, Query(description="Past a provincial or national limit (yellow or red)")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ApplicationPage:
    """Newest first; `unit` is the unit and the units under it (the caller's own by default)."""
    filters: list[ColumnElement[bool]] = []
    if unit is not None:
        filters.append(
            (col(ApplicationRow.unit) == unit) | col(ApplicationRow.unit).startswith(f"{unit}/")
        )
    for column, value in (
        (ApplicationRow.business_type, business_type),
        (ApplicationRow.stage, stage),
        (ApplicationRow.state, state),
        (ApplicationRow.customer_manager, customer_manager),
        (ApplicationRow.warning_level, warning_level),
    ):
        if value is not None:
            filters.append(col(column) == value)
    if overdue is not None:
        late = col(ApplicationRow.warning_level).in_(OVERDUE_LEVELS)
        filters.append(late if overdue else ~late | col(ApplicationRow.warning_level).is_(None))
    total = session.exec(select(func.count()).select_from(ApplicationRow).where(*filters)).one()
    rows = session.exec(
        select(ApplicationRow)
        .where(*filters)
        .order_by(col(ApplicationRow.accepted_at).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return ApplicationPage(
        items=[
            localised(
                ApplicationPublic.model_validate(r, from_attributes=True),
                zone_of(r.unit, settings.timezone),
            )
            for r in rows
        ],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/{application_no}",
    response_model=ApplicationStatus,
    responses=problems(404, 422, 503),
    dependencies=[require("applications.read"), READABLE],
)
async def get_application(
    application_no: ApplicationNo,
    temporal: TemporalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> ApplicationStatus:
    """Live from the workflow's `status` query while it runs; from the database once closed."""
    row = session.get(ApplicationRow, application_no)
    if row is not None and row.state != "running" and row.final_status is not None:
        closed = ApplicationStatus.model_validate(row.final_status)
        return localised(closed, zone_of(closed.profile.unit, settings.timezone))
    handle = _handle(temporal, application_no)
    try:
        live = await handle.query(ConnectionApplication.status)
        return localised(live, zone_of(live.profile.unit, settings.timezone))
    except Exception as exc:
        if isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND:
            raise _not_found(application_no) from exc
        raise_if_unavailable(exc)
        raise


UPDATE_PROBLEMS = problems(403, 404, 409, 422, 503)
RECORD = [require("applications.record"), WRITABLE]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description=(
            "Makes a retry safe: a request repeated with the same key (after a timeout or a lost "
            "answer) is answered with the first one's outcome and records nothing twice, while "
            "the application runs in its current run"
        ),
    ),
]


def unit_zone(
    application_no: ApplicationNo, session: SessionDep, settings: SettingsDep
) -> ZoneInfo:
    """The zone of the application's unit, from its row (the deployment's until it is written)."""
    row = session.get(ApplicationRow, application_no)
    return zone_of(row.unit if row is not None else None, settings.timezone)


UnitZone = Annotated[ZoneInfo, Depends(unit_zone)]


@router.post(
    "/{application_no}/events",
    response_model=UpdateResult,
    responses=UPDATE_PROBLEMS,
    dependencies=RECORD,
)
async def record_event(
    application_no: ApplicationNo,
    body: RecordEventRequest,
    temporal: TemporalDep,
    zone: UnitZone,
    who: ActorDep,
    engine: EngineDep,
    key: IdempotencyKey = None,
) -> UpdateResult:
    """Record a stage event; refused (nothing recorded) when it is unknown, does not apply,
    comes in the wrong order, lies in the future or before the acceptance."""
    result = await _update(
        temporal, application_no, ConnectionApplication.record_event, _by(body, who), zone, key
    )
    audit(engine, who, "application.event", application_no, detail={"event": body.event})
    return result


@router.post(
    "/{application_no}/pause",
    response_model=UpdateResult,
    responses=UPDATE_PROBLEMS,
    dependencies=RECORD,
)
async def pause(
    application_no: ApplicationNo,
    body: HoldRequest,
    temporal: TemporalDep,
    zone: UnitZone,
    who: ActorDep,
    engine: EngineDep,
    key: IdempotencyKey = None,
) -> UpdateResult:
    """Stop the clocks for a customer-caused hold (with its reason)."""
    result = await _update(
        temporal, application_no, ConnectionApplication.pause, _by(body, who), zone, key
    )
    audit(engine, who, "application.pause", application_no)
    return result


@router.post(
    "/{application_no}/resume",
    response_model=UpdateResult,
    responses=UPDATE_PROBLEMS,
    dependencies=RECORD,
)
async def resume(
    application_no: ApplicationNo,
    body: HoldRequest,
    temporal: TemporalDep,
    zone: UnitZone,
    who: ActorDep,
    engine: EngineDep,
    key: IdempotencyKey = None,
) -> UpdateResult:
    result = await _update(
        temporal, application_no, ConnectionApplication.resume, _by(body, who), zone, key
    )
    audit(engine, who, "application.resume", application_no)
    return result


@router.post(
    "/{application_no}/cancel",
    response_model=UpdateResult,
    responses=UPDATE_PROBLEMS,
    dependencies=[require("applications.cancel"), WRITABLE],
)
async def cancel_application(
    application_no: ApplicationNo,
    body: CancelRequest,
    temporal: TemporalDep,
    zone: UnitZone,
    who: ActorDep,
    engine: EngineDep,
    key: IdempotencyKey = None,
) -> UpdateResult:
    result = await _update(
        temporal, application_no, ConnectionApplication.cancel, _by(body, who), zone, key
    )
    audit(engine, who, "application.cancel", application_no)
    return result


def _by(body: _Body, who: Actor) -> _Body:
    """The request as the workflow records it: with the signed-in member as its actor, and
    from this system (only the go-live import records an event as imported)."""
    live = {"origin": "live"} if "origin" in type(body).model_fields else {}
    return body.model_copy(update={"actor": who.code, **live})


async def _update(
    temporal: Client,
    application_no: str,
    update: Any,
    body: BaseModel,
    zone: ZoneInfo,
    key: str | None = None,
) -> UpdateResult:
    """`key`: the caller's idempotency key, the update's id (Temporal answers a repeat
    with the first outcome)."""
    update_id = f"{update.__name__}:{key}" if key else None
    result: UpdateResult = await update_application(
        temporal, application_no, update, body, update_id
    )
    return localised(result, zone)


async def update_application(
    temporal: Client, application_no: str, update: Any, body: Any, update_id: str | None = None
) -> Any:
    """An update of the application's workflow, its failures as the API answers them: the
    workflow's refusal (422/409 naming the field), a closed or unknown application (409/404),
    Temporal unreachable (503)."""
    handle = _handle(temporal, application_no)
    try:
        return await handle.execute_update(update, body, id=update_id)
    except WorkflowUpdateFailedError as exc:
        raise update_rejected(exc) from exc
    except Exception as exc:
        if isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND:
            raise await _closed_or_missing(handle, application_no) from exc
        raise_if_unavailable(exc)
        raise


def _handle(
    temporal: Client, application_no: str
) -> WorkflowHandle[ConnectionApplication, ApplicationOutcome]:
    return temporal.get_workflow_handle_for(ConnectionApplication.run, workflow_id(application_no))


async def _closed_or_missing(
    handle: WorkflowHandle[ConnectionApplication, ApplicationOutcome], application_no: str
) -> HTTPException:
    """An update to a closed workflow also answers NOT_FOUND: tell the two apart, because
    "already finished" is a conflict the caller should see, not a missing application."""
    try:
        desc = await handle.describe()
        state = desc.status.name.lower() if desc.status else "closed"
        if desc.status == WorkflowExecutionStatus.COMPLETED:
            # Completed in Temporal's terms: archived or cancelled in the application's.
            state = (await handle.result()).state
    except RPCError:
        return _not_found(application_no)
    return refused(
        Refusal.one("closed", "application_no", f"application {application_no} is {state}")
    )


def _not_found(application_no: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND,
        detail={"field": "application_no", "reason": f"no application {application_no}"},
    )
