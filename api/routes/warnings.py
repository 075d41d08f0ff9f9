"""The open-warnings board, from the database read model."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement
from sqlmodel import col, func, select

from api.auth import UnitScope, require
from api.deps import SessionDep, SettingsDep
from api.instants import localised, zone_of
from api.problems import problems
from api.schemas import MAX_OFFSET, QueryCode
from contracts.application import LEVEL_ORDER, WarningLevel
from readmodel.applications import ApplicationRow, WarningPublic, WarningRow

router = APIRouter(prefix="/api/warnings", tags=["warnings"])


class WarningCounts(BaseModel):
    """Open warnings per level, whatever the filters on the items."""

    blue: int = 0
    yellow: int = 0
    orange: int = 0
    red: int = 0


class WarningBoard(BaseModel):
    counts: WarningCounts
    items: list[WarningPublic]
    total: int
    offset: int
    limit: int


@router.get(
    "",
    response_model=WarningBoard,
    responses=problems(404, 422),
    dependencies=[require("applications.read")],
)
def warning_board(
    session: SessionDep,
    settings: SettingsDep,
    unit: UnitScope,
    level: WarningLevel | None = None,
    monitor: QueryCode = None,
    include_closed: bool = False,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> WarningBoard:
    filters: list[ColumnElement[bool]] = []
    if not include_closed:
        filters.append(col(WarningRow.open).is_(True))
    if level is not None:
        filters.append(col(WarningRow.level) == level)
    if monitor is not None:
        filters.append(col(WarningRow.monitor) == monitor)
    query = select(WarningRow)
    count_query = select(func.count()).select_from(WarningRow)
    if unit is not None:
        in_unit = (col(ApplicationRow.unit) == unit) | col(ApplicationRow.unit).startswith(
            f"{unit}/"
        )
        query = query.join(
            ApplicationRow, col(ApplicationRow.application_no) == WarningRow.application_no
        )
        count_query = count_query.join(
            ApplicationRow, col(ApplicationRow.application_no) == WarningRow.application_no
        )
        filters.append(in_unit)
    total = session.exec(count_query.where(*filters)).one()
    rows = session.exec(
        query.where(*filters)
        .order_by(col(WarningRow.due_at).asc(), col(WarningRow.id).asc())
        .offset(offset)
        .limit(limit)
    ).all()
    numbers = {r.application_no for r in rows}
    units = dict(
        session.exec(
            select(ApplicationRow.application_no, ApplicationRow.unit).where(
                col(ApplicationRow.application_no).in_(numbers)
            )
        ).all()
        if numbers
        else []
    )
    counts = dict.fromkeys(LEVEL_ORDER, 0)
    for lvl, n in session.exec(
        select(WarningRow.level, func.count())
        .where(col(WarningRow.open).is_(True))
        .group_by(WarningRow.level)
    ).all():
        counts[lvl] = n
    return WarningBoard(
        counts=WarningCounts(**counts),
        items=[
            localised(
                WarningPublic.model_validate(r, from_attributes=True),
                zone_of(units.get(r.application_no), settings.timezone),
            )
            for r in rows
        ],
        total=total,
        offset=offset,
        limit=limit,
    )
