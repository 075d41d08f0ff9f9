from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel

from api.auth import PUBLIC
from api.deps import EngineDep, TemporalDep
from api.errors import RETRY_AFTER_S
from api.problems import problems
from core.db import ping

router = APIRouter(tags=["operations"], dependencies=[PUBLIC])
log = logging.getLogger(__name__)


class Health(BaseModel):
    status: str
    temporal: str
    database: str


@router.get("/health", response_model=Health, responses=problems(503))
async def health(temporal: TemporalDep, engine: EngineDep) -> Health:
    """200 when Temporal and the database answer; otherwise 503, whose `errors` name each
    service that does not (`temporal`, `database`)."""
    try:
        await asyncio.wait_for(temporal.service_client.check_health(), timeout=5)
        temporal_ok = "ok"
    except Exception as exc:
        log.warning("health: Temporal check failed: %s", type(exc).__name__)
        temporal_ok = "unreachable"
    try:
        await asyncio.to_thread(ping, engine)
        db_ok = "ok"
    except Exception as exc:
        log.warning("health: database check failed: %s", type(exc).__name__)
        db_ok = "unreachable"
    down = [name for name, ok in (("temporal", temporal_ok), ("database", db_ok)) if ok != "ok"]
    if down:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={
                "type": "unavailable",
                "detail": f"degraded: {', '.join(down)} unreachable",
                "errors": [{"field": name, "reason": "unreachable"} for name in down],
            },
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    return Health(status="ok", temporal=temporal_ok, database=db_ok)
