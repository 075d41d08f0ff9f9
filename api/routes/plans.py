"""Supply plans: the consultation answer (`POST /api/plan-preview`), without starting anything."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError

from api.auth import PUBLIC
from api.deps import GridDep
from api.problems import problems
from policies.plans.plan import Plan
from policies.plans.preview import PlanPreviewRequest, plan_preview

#: Public: a preview plans for a described customer and carries no personal data.
router = APIRouter(prefix="/api", tags=["plans"], dependencies=[PUBLIC])


@router.post("/plan-preview", response_model=Plan, responses=problems(422))
def preview_plan(body: PlanPreviewRequest, grid: GridDep) -> Plan:
    """The supply plan the engine would give this profile now: access voltage, power sources
    and connection points, investment boundary, metering point, supporting works, approvals,
    outage tier, and whether a person must decide (`needs_joint_review`, `reasons`). Every
    decision cites its clause. Needs no Temporal server."""
    missing = body.missing()
    if missing:
        # The same 422 problem as the body's own validation, one entry per field left out.
        raise RequestValidationError(
            [
                {"type": "value_error", "loc": ("body", name), "msg": reason, "input": None}
                for name, reason in missing
            ]
        )
    return plan_preview(body, grid)
