"""Staff endpoints behind the webhooks: the deliveries (and replaying the failed ones), reserve
projects (follow-ups, 一键转正式), proposed registrations (confirm, dismiss) and permit
results. Lists read the database; changes go through the workflows' updates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, func, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.audit import audit
from api.auth import ActorDep, UnitScope, require
from api.deps import EngineDep, SessionDep, SettingsDep, TemporalDep
from api.errors import raise_if_unavailable, update_rejected
from api.integrations_dispatch import hand_over
from api.problems import problems
from api.schemas import MAX_OFFSET, QueryCode
from contracts.application import CancelRequest
from contracts.integrations import (
    EXTERNAL_ID_PATTERN,
    ConfirmRequest,
    ConvertRequest,
    ConvertResult,
    DeliveryKind,
    DeliveryStatus,
    FollowUpRequest,
    RegistrationState,
    RegistrationStatus,
    ReserveProjectStatus,
    ReserveState,
    registration_workflow_id,
    reserve_workflow_id,
)
from readmodel.integrations import (
    DeliveryPublic,
    DeliveryRow,
    PermitRow,
    RegistrationRow,
    ReserveProjectRow,
)

_T = TypeVar("_T")

router = APIRouter(prefix="/api", tags=["integrations"])
READ = [require("integrations.read")]
HANDLE = [require("integrations.handle")]

ExternalId = Annotated[str, Path(pattern=EXTERNAL_ID_PATTERN)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Limit = Annotated[int, Query(ge=1, le=500)]
REPLAYABLE = ("failed", "received")


class DeliveryPage(BaseModel):
    items: list[DeliveryPublic]
    counts: dict[str, int]
    total: int
    offset: int
    limit: int


class ReservePage(BaseModel):
    items: list[ReserveProjectStatus]
    total: int
    offset: int
    limit: int


class RegistrationPage(BaseModel):
    items: list[RegistrationStatus]
    total: int
    offset: int
    limit: int


class PermitPublic(BaseModel):
    application_no: str
    kind: str
    result: str
    decided_at: datetime
    delivery: int
    returned_to: str | None
    outcome: str


# -- deliveries ----------------------------------------------------------------------------------


@router.get(
    "/integrations/deliveries",
    response_model=DeliveryPage,
    responses=problems(422),
    dependencies=READ,
)
def list_deliveries(
    session: SessionDep,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    kind: DeliveryKind | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> DeliveryPage:
    """Every delivery with its outcome, newest first; `status=failed` lists those Temporal
    could not take (replay them). Bodies are not shown: they hold personal data."""
    where: list[ColumnElement[bool]] = []
    if kind is not None:
        where.append(col(DeliveryRow.kind) == kind)
    by_status = session.exec(
        select(DeliveryRow.status, func.count()).where(*where).group_by(DeliveryRow.status)
    ).all()
    if status_ is not None:
        where.append(col(DeliveryRow.status) == status_)
    total = session.exec(select(func.count()).select_from(DeliveryRow).where(*where)).one()
    rows = session.exec(
        select(DeliveryRow)
        .where(*where)
        .order_by(col(DeliveryRow.id).desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return DeliveryPage(
        items=[DeliveryPublic.model_validate(r, from_attributes=True) for r in rows],
        counts=dict(by_status),
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get(
    "/integrations/deliveries/{delivery}",
    response_model=DeliveryPublic,
    responses=problems(404),
    dependencies=READ,
)
def get_delivery(delivery: int, session: SessionDep) -> DeliveryPublic:
    row = session.get(DeliveryRow, delivery)
    if row is None:
        raise _not_found("delivery", f"no delivery {delivery}")
    return DeliveryPublic.model_validate(row, from_attributes=True)


@router.post(
    "/integrations/deliveries/{delivery}/replay",
    response_model=DeliveryPublic,
    responses=problems(404, 409),
    dependencies=[require("integrations.replay")],
)
async def replay_delivery(
    delivery: int,
    who: ActorDep,
    session: SessionDep,
    engine: EngineDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> DeliveryPublic:
    """Hand a failed (or never handed-over) delivery to Temporal again. Idempotent: its
    workflow ID is the one the first hand-over used."""
    row = session.get(DeliveryRow, delivery)
    if row is None:
        raise _not_found("delivery", f"no delivery {delivery}")
    if row.status not in REPLAYABLE:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={
                "field": "status",
                "reason": f"the delivery is {row.status}: nothing to replay",
            },
        )
    audit(engine, who, "delivery.replay", target=str(delivery), detail={"kind": row.kind})
    await hand_over(engine, temporal, settings.temporal_task_queue, delivery, row.kind, row.body)
    session.expire_all()
    stored = session.get(DeliveryRow, delivery)
    return DeliveryPublic.model_validate(stored, from_attributes=True)


@router.get(
    "/integrations/permits",
    response_model=list[PermitPublic],
    responses=problems(422),
    dependencies=READ,
)
def list_permits(
    session: SessionDep,
    application_no: QueryCode = None,
    returned_to: QueryCode = None,
    limit: Limit = 100,
) -> list[PermitPublic]:
    """The latest result of each permit kind, by application; `returned_to` lists what a
    rejection returned to a customer manager."""
    where: list[ColumnElement[bool]] = []
    if application_no is not None:
        where.append(col(PermitRow.application_no) == application_no)
    if returned_to is not None:
        where.append(col(PermitRow.returned_to) == returned_to)
    rows = session.exec(select(PermitRow).where(*where).limit(limit)).all()
    return [PermitPublic.model_validate(r, from_attributes=True) for r in rows]


# -- reserve projects ------------------------------------------------------------------------------


def _unit_filter(column: Any, unit: str) -> ColumnElement[bool]:
    return or_(col(column) == unit, col(column).startswith(unit + "/"))


Pooled = TypeVar("Pooled", ReserveProjectRow, RegistrationRow)


def _pool(
    session: Session,
    row: type[Pooled],
    unit: str | None,
    state: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of a pool the approval system fills (reserve projects, registrations), newest
    first: the stored statuses and how many matched."""
    where: list[ColumnElement[bool]] = []
    if unit is not None:
        where.append(_unit_filter(row.unit, unit))
    if state is not None:
        where.append(col(row.state) == state)
    total = session.exec(select(func.count()).select_from(row).where(*where)).one()
    found = session.exec(
        select(row).where(*where).order_by(col(row.received_at).desc()).offset(offset).limit(limit)
    ).all()
    return [r.status for r in found], total


@router.get(
    "/reserve-projects", response_model=ReservePage, responses=problems(404, 422), dependencies=READ
)
def list_reserve_projects(
    session: SessionDep,
    unit: UnitScope,
    state: ReserveState | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> ReservePage:
    """The reserve-project pool (业扩项目储备库) of a unit and the units under it."""
    statuses, total = _pool(session, ReserveProjectRow, unit, state, offset, limit)
    items = [ReserveProjectStatus.model_validate(st) for st in statuses]
    return ReservePage(items=items, total=total, offset=offset, limit=limit)


@router.get(
    "/reserve-projects/{project_id}",
    response_model=ReserveProjectStatus,
    responses=problems(404, 503),
    dependencies=READ,
)
async def get_reserve_project(
    project_id: ExternalId, session: SessionDep, temporal: TemporalDep
) -> ReserveProjectStatus:
    row = session.get(ReserveProjectRow, project_id)
    if row is not None and row.state != "reserved":
        return ReserveProjectStatus.model_validate(row.status)
    return await _query(
        temporal, reserve_workflow_id(project_id), ReserveProjectStatus, "project_id"
    )


@router.post(
    "/reserve-projects/{project_id}/follow-ups",
    response_model=ReserveProjectStatus,
    responses=problems(404, 409, 422, 503),
    dependencies=HANDLE,
)
async def follow_up(
    project_id: ExternalId,
    body: FollowUpRequest,
    temporal: TemporalDep,
    who: ActorDep,
    engine: EngineDep,
) -> ReserveProjectStatus:
    """A customer manager's follow-up: the next reminder counts from it."""
    result: ReserveProjectStatus = await _update(
        temporal,
        reserve_workflow_id(project_id),
        "follow_up",
        body,
        ReserveProjectStatus,
        "project_id",
    )
    audit(engine, who, "reserve_project.follow_up", target=project_id)
    return result


@router.post(
    "/reserve-projects/{project_id}/convert",
    response_model=ConvertResult,
    status_code=status.HTTP_201_CREATED,
    responses=problems(404, 409, 422, 503),
    dependencies=HANDLE,
)
async def convert(
    project_id: ExternalId,
    body: ConvertRequest,
    temporal: TemporalDep,
    who: ActorDep,
    engine: EngineDep,
) -> ConvertResult:
    """一键转正式: starts the ConnectionApplication with the project's unit, voltage, load and
    location filled in (number `rsv-<project id>`), links the two and completes the project."""
    result: ConvertResult = await _update(
        temporal, reserve_workflow_id(project_id), "convert", body, ConvertResult, "project_id"
    )
    audit(engine, who, "reserve_project.convert", result.application_no, target=project_id)
    return result


# -- proposed registrations ----------------------------------------------------------------------


@router.get(
    "/registrations",
    response_model=RegistrationPage,
    responses=problems(404, 422),
    dependencies=READ,
)
def list_registrations(
    session: SessionDep,
    unit: UnitScope,
    state: RegistrationState | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> RegistrationPage:
    """Proposed 主动办电 applications for a unit's customer managers (and the units under it)."""
    statuses, total = _pool(session, RegistrationRow, unit, state, offset, limit)
    items = [RegistrationStatus.model_validate(st) for st in statuses]
    return RegistrationPage(items=items, total=total, offset=offset, limit=limit)


@router.post(
    "/registrations/{registration_no}/confirm",
    response_model=ConvertResult,
    status_code=status.HTTP_201_CREATED,
    responses=problems(404, 409, 422, 503),
    dependencies=HANDLE,
)
async def confirm(
    registration_no: ExternalId,
    body: ConfirmRequest,
    temporal: TemporalDep,
    who: ActorDep,
    engine: EngineDep,
) -> ConvertResult:
    """Start the `lv_small_micro` application on the proactive channel (number
    `reg-<registration no>`), with the stages the pack gives 主动办电."""
    wid = registration_workflow_id(registration_no)
    result: ConvertResult = await _update(
        temporal, wid, "confirm", body, ConvertResult, "registration_no"
    )
    audit(engine, who, "registration.confirm", result.application_no, target=registration_no)
    return result


@router.post(
    "/registrations/{registration_no}/dismiss",
    response_model=RegistrationStatus,
    responses=problems(404, 409, 422, 503),
    dependencies=HANDLE,
)
async def dismiss(
    registration_no: ExternalId,
    body: CancelRequest,
    temporal: TemporalDep,
    who: ActorDep,
    engine: EngineDep,
) -> RegistrationStatus:
    wid = registration_workflow_id(registration_no)
    result: RegistrationStatus = await _update(
        temporal, wid, "dismiss", body, RegistrationStatus, "registration_no"
    )
    audit(engine, who, "registration.dismiss", target=registration_no)
    return result


# -- helpers -------------------------------------------------------------------------------------


async def _update(
    temporal: Client, wid: str, name: str, body: BaseModel, result: type[Any], field: str
) -> Any:
    handle = temporal.get_workflow_handle(wid)
    try:
        return await handle.execute_update(name, body, result_type=result)
    except WorkflowUpdateFailedError as exc:
        raise update_rejected(exc) from exc
    except Exception as exc:
        if isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND:
            raise await _closed_or_missing(handle, wid, field) from exc
        raise_if_unavailable(exc)
        raise


async def _closed_or_missing(handle: Any, wid: str, field: str) -> HTTPException:
    """An update to a finished workflow also answers NOT_FOUND: a project already converted
    (or a registration confirmed or dismissed) is a conflict, not a missing resource."""
    what, _, key = wid.partition("-")
    try:
        final = await handle.result()
    except Exception:
        return _not_found(field, f"no {what} {key}")
    state = final.get("state", "closed") if isinstance(final, dict) else "closed"
    return HTTPException(
        status.HTTP_409_CONFLICT,
        detail={"type": "conflict", "field": "state", "reason": f"the {what} is {state}"},
    )


async def _query(temporal: Client, wid: str, result: type[_T], field: str) -> _T:
    handle = temporal.get_workflow_handle(wid)
    try:
        answer: _T = await handle.query("status", result_type=result)
    except Exception as exc:
        if isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND:
            raise _not_found(field, f"no {wid}") from exc
        raise_if_unavailable(exc)
        raise
    return answer


def _not_found(field: str, reason: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail={"field": field, "reason": reason})
