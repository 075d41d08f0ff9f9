"""Operators' repairs: reconcile the read model with the workflows' state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.audit import audit
from api.auth import ActorDep, require
from api.deps import EngineDep, SettingsDep, TemporalDep
from api.errors import is_unavailable, temporal_unavailable
from api.problems import problems
from readmodel.reconcile import ReconcileReport, reconcile

router = APIRouter(prefix="/api/operations", tags=["operations"])


@router.post(
    "/reconcile",
    response_model=ReconcileReport,
    responses=problems(403, 422, 503),
    dependencies=[require("operations.reconcile")],
)
async def reconcile_read_model(
    temporal: TemporalDep,
    engine: EngineDep,
    settings: SettingsDep,
    who: ActorDep,
    dry_run: Annotated[bool, Query(description="Report only, repair nothing")] = False,
) -> ReconcileReport:
    """Compare every application's row with its workflow (running: its `status` query; closed:
    the final status in the read model) and rewrite the rows that drifted through the
    projection's idempotent write. Rows without a workflow are reported, never deleted. One
    query per running application: minutes for tens of thousands (`python -m
    readmodel.reconcile` does the same from a shell)."""
    audit(engine, who, "operations.reconcile", detail={"dry_run": str(dry_run).lower()})
    try:
        return await reconcile(
            temporal, engine, task_queue=settings.temporal_task_queue, dry_run=dry_run
        )
    except Exception as exc:
        if is_unavailable(exc):
            raise temporal_unavailable(exc) from None
        raise
