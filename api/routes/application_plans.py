"""Staff endpoints for an application's supply plan: read it, approve it (the plan reply),
revise it with new inputs, record the joint review's decision, and its document (PDF).

The plan lives in the workflow (its status; the read model's final status once closed); the
changes are the workflow's updates, refused with the same problems as events (docs/api.md).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from api.audit import audit
from api.auth import ActorDep, require
from api.deps import EngineDep, SessionDep, SettingsDep, TemporalDep
from api.instants import localised, zone_of
from api.plan_document import FontMissing, PlanHeader, render_plan_pdf
from api.problems import problems
from api.routes.applications import (
    UPDATE_PROBLEMS,
    ApplicationNo,
    UnitZone,
    get_application,
    update_application,
)
from api.scope import READABLE, WRITABLE
from contracts.application import UpdateResult
from contracts.plans import (
    ApprovePlanRequest,
    JointReviewRequest,
    PlanRecord,
    RevisePlanRequest,
)
from policies import labels
from readmodel.applications import ApplicationRow
from readmodel.organisation import UnitRow
from workflows.connection_application import ConnectionApplication

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/applications", tags=["plans"])
READ = [require("applications.read"), READABLE]
DECIDE = [require("plans.decide"), WRITABLE]


def _no_plan(application_no: str, why: str = "has no plan yet") -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND,
        detail={"field": "plan", "reason": f"application {application_no} {why}"},
    )


async def _record(
    application_no: str, temporal: Any, session: Any, settings: Any
) -> tuple[PlanRecord, str]:
    """The current plan (in the unit's zone) and the application's unit."""
    found = await get_application(application_no, temporal, session, settings)
    if found.plan is None:
        raise _no_plan(application_no)
    return found.plan, found.profile.unit


@router.get(
    "/{application_no}/plan",
    response_model=PlanRecord,
    responses=problems(404, 422, 503),
    dependencies=READ,
)
async def get_plan(
    application_no: ApplicationNo,
    temporal: TemporalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> PlanRecord:
    """The current plan: its version, state (`proposed`, `joint_review`, `approved`,
    `not_planned`), the plan with each decision's clause, and the capacity it holds."""
    record, _ = await _record(application_no, temporal, session, settings)
    return record


@router.post(
    "/{application_no}/plan/approve",
    response_model=UpdateResult,
    responses=UPDATE_PROBLEMS,
    dependencies=DECIDE,
)
async def approve_plan(
    application_no: ApplicationNo,
    body: ApprovePlanRequest,
    temporal: TemporalDep,
    zone: UnitZone,
    who: ActorDep,
    engine: EngineDep,
) -> UpdateResult:
    """Record the plan's reply (`plan_reply.completed`) on the plan as it stands: refused
    while it is in joint review, and checked as any event is (order, too-short flags)."""
    result: UpdateResult = await update_application(
        temporal, application_no, ConnectionApplication.approve_plan, body
    )
    audit(engine, who, "plan.approve", application_no)
    return localised(result, zone)


@router.post(
    "/{application_no}/plan/revise",
    response_model=PlanRecord,
    responses=UPDATE_PROBLEMS,
    dependencies=DECIDE,
)
async def revise_plan(
    application_no: ApplicationNo,
    body: RevisePlanRequest,
    temporal: TemporalDep,
    zone: UnitZone,
    who: ActorDep,
    engine: EngineDep,
) -> PlanRecord:
    """New inputs (the location, the measured outside line) give a new version of the plan;
    the old version's capacity is released."""
    record: PlanRecord = await update_application(
        temporal, application_no, ConnectionApplication.revise_plan, body
    )
    audit(engine, who, "plan.revise", application_no, detail={"version": str(record.version)})
    return localised(record, zone)


@router.post(
    "/{application_no}/plan/joint-review",
    response_model=PlanRecord,
    responses=UPDATE_PROBLEMS,
    dependencies=DECIDE,
)
async def joint_review(
    application_no: ApplicationNo,
    body: JointReviewRequest,
    temporal: TemporalDep,
    zone: UnitZone,
    who: ActorDep,
    engine: EngineDep,
) -> PlanRecord:
    """The reviewers' decision (专业联动) on a plan the engine could not decide: a new version
    with their choices (voltage, connection point, works, approval) in place of the engine's."""
    record: PlanRecord = await update_application(
        temporal, application_no, ConnectionApplication.review_plan, body
    )
    audit(engine, who, "plan.joint_review", application_no, detail={"version": str(record.version)})
    return localised(record, zone)


@router.get(
    "/{application_no}/plan.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "供电方案答复单 (PDF)"},
        **problems(404, 422, 503),
    },
    dependencies=READ,
)
async def plan_pdf(
    application_no: ApplicationNo,
    temporal: TemporalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """The plan document (供电方案答复单) in Chinese: the customer, the access voltage, the
    sources and connection points, the boundary, the metering, the works and their limit,
    the approvals, the validity, and each decision's clause."""
    record, unit = await _record(application_no, temporal, session, settings)
    if record.plan is None:
        raise _no_plan(application_no, f"has no plan: {record.refused}")
    row = session.get(ApplicationRow, application_no)
    org = session.get(UnitRow, unit)
    zone = zone_of(unit, settings.timezone)
    header = PlanHeader(
        application_no=application_no,
        customer_name=row.customer_name if row is not None else "—",
        unit_label=labels.UNITS.get(unit) or (org.name if org is not None else unit),
        issued_on=record.made_at.astimezone(zone).date(),
        plan_version=record.version,
    )
    try:
        pdf = render_plan_pdf(record.plan, header)
    except FontMissing as exc:
        log.error("plan document: %s", exc)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={"type": "unavailable", "reason": "no CJK font installed for the document"},
        ) from exc
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{application_no}-plan.pdf"'},
    )
