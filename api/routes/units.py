"""Units of the organisation (province → city → county → supply station, GLOSSARY.md codes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, status
from pydantic import BaseModel
from sqlmodel import col, select

from api.deps import SessionDep, SettingsDep
from api.routes.staff import require_admin, validate
from contracts.organisation import UnitIn, unit_parent
from readmodel.organisation import UnitRow

router = APIRouter(prefix="/api/units", tags=["organisation"])


class UnitPublic(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None


def _public(u: UnitRow) -> UnitPublic:
    return UnitPublic(code=u.code, name=u.name, level=u.level, parent=u.parent)


@router.get("", response_model=list[UnitPublic])
def list_units(session: SessionDep, under: str | None = None) -> list[UnitPublic]:
    query = select(UnitRow)
    if under is not None:
        query = query.where(
            (col(UnitRow.code) == under) | col(UnitRow.code).startswith(f"{under}/")
        )
    return [_public(u) for u in session.exec(query.order_by(col(UnitRow.code))).all()]


@router.get("/{code:path}", response_model=UnitPublic)
def get_unit(code: str, session: SessionDep) -> UnitPublic:
    unit = session.get(UnitRow, code)
    if unit is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={"reason": f"no unit {code}"})
    return _public(unit)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=UnitPublic)
def create_unit(
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[dict[str, Any], Body(description="code (e.g. henan/sanmenxia), name, level")],
    x_admin_token: Annotated[str | None, Header()] = None,
) -> UnitPublic:
    require_admin(settings, x_admin_token, "changing units")
    data = validate(UnitIn, body)
    if session.get(UnitRow, data.code) is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail={"field": "code", "reason": f"unit {data.code} exists"}
        )
    parent = unit_parent(data.code)
    if parent is not None and session.get(UnitRow, parent) is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={"field": "code", "reason": f"parent unit {parent} does not exist"},
        )
    unit = UnitRow(code=data.code, name=data.name, level=data.level, parent=parent)
    session.add(unit)
    session.commit()
    return _public(unit)
