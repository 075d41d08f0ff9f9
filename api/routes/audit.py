"""The audit trail: `GET /api/audit?application=&actor=&from=&to=` (readmodel/audit.py)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, BeforeValidator

from api.auth import UnitScope, require
from api.deps import EngineDep
from api.problems import problems
from api.schemas import MAX_OFFSET, QueryCode
from readmodel.audit import AuditBase, search

router = APIRouter(prefix="/api/audit", tags=["audit"])

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T")


def _iso_instant(value: object) -> object:
    """An instant is written ISO 8601 with its offset: not a number (pydantic would read one
    as seconds since 1970)."""
    if not isinstance(value, str) or not _ISO.match(value):
        raise ValueError("an ISO 8601 instant with its offset, e.g. 2026-12-01T08:00:00+08:00")
    return value


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_instant),
    Query(json_schema_extra={"format": "date-time", "pattern": _ISO.pattern}),
]


class AuditEntry(AuditBase):
    id: int


class AuditPage(BaseModel):
    items: list[AuditEntry]
    total: int
    offset: int
    limit: int


@router.get(
    "",
    response_model=AuditPage,
    responses=problems(422),
    dependencies=[require("audit.read")],
)
def audit_trail(
    engine: EngineDep,
    unit: UnitScope,
    application: QueryCode = None,
    actor: QueryCode = None,
    date_from: Annotated[
        Instant | None, Query(alias="from", description="From this instant (inclusive)")
    ] = None,
    date_to: Annotated[
        Instant | None, Query(alias="to", description="Up to this instant (exclusive)")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditPage:
    """Who changed what, from where and when, newest first: in the caller's unit and the units
    under it (a change belongs to its application's unit, else to its actor's)."""
    rows, total = search(
        engine,
        unit=unit,
        application_no=application,
        actor=actor,
        since=date_from,
        until=date_to,
        offset=offset,
        limit=limit,
    )
    items = [AuditEntry.model_validate(r, from_attributes=True) for r in rows]
    return AuditPage(items=items, total=total, offset=offset, limit=limit)
