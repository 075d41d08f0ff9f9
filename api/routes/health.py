from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from api.deps import EngineDep, TemporalDep
from core.db import ping

router = APIRouter(tags=["operations"])
log = logging.getLogger(__name__)


class Health(BaseModel):
    status: str
    temporal: str
    database: str


@router.get("/health", response_model=Health)
async def health(temporal: TemporalDep, engine: EngineDep, response: Response) -> Health:
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
    healthy = temporal_ok == "ok" and db_ok == "ok"
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status="ok" if healthy else "degraded", temporal=temporal_ok, database=db_ok)
