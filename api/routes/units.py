"""Units of the organisation (province → city → county → supply station, docs/glossary.md
codes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel
from sqlmodel import col, select

from api.audit import audit
from api.auth import ActorDep, CurrentUser, require
from api.deps import EngineDep, SessionDep
from api.problems import problems
from contracts.organisation import UnitIn, UnitLevel, unit_parent
from policies.codes import UNIT_CODE_RE
from readmodel.organisation import UnitRow

router = APIRouter(prefix="/api/units", tags=["organisation"])
READ = [require("reference.read")]


class UnitPublic(BaseModel):
    code: str
    name: str
    level: UnitLevel
    parent: str | None


def _public(u: UnitRow) -> UnitPublic:
    return UnitPublic.model_validate(u, from_attributes=True)


@router.get("", response_model=list[UnitPublic], responses=problems(422), dependencies=READ)
def list_units(
    session: SessionDep,
    user: CurrentUser,
    under: Annotated[
        str | None, Query(min_length=1, max_length=128, description="This unit and its units")
    ] = None,
) -> list[UnitPublic]:
    """The caller's unit and the units under it (all of them for a superuser)."""
    if not user.superuser:
        if under is not None and not user.sees(under):
            return []
        under = under or user.unit
    query = select(UnitRow)
    if under is not None:
        query = query.where(
            (col(UnitRow.code) == under) | col(UnitRow.code).startswith(f"{under}/")
        )
    return [_public(u) for u in session.exec(query.order_by(col(UnitRow.code))).all()]


@router.get(
    "/{code:path}", response_model=UnitPublic, responses=problems(404, 422), dependencies=READ
)
def get_unit(
    code: Annotated[str, Path(max_length=128, pattern=UNIT_CODE_RE.pattern)],
    session: SessionDep,
    user: CurrentUser,
) -> UnitPublic:
    unit = session.get(UnitRow, code)
    if unit is None or not user.sees(code):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail={"field": "code", "reason": f"no unit {code}"}
        )
    return _public(unit)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UnitPublic,
    responses=problems(403, 409, 422),
    dependencies=[require("units.manage")],
)
def create_unit(body: UnitIn, session: SessionDep, who: ActorDep, engine: EngineDep) -> UnitPublic:
    """A unit under its parent (the code's path parent, which must exist)."""
    if session.get(UnitRow, body.code) is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail={"field": "code", "reason": f"unit {body.code} exists"}
        )
    parent = unit_parent(body.code)
    if parent is not None and session.get(UnitRow, parent) is None:
        # Well-formed, but the tree lacks its parent: a clash with what is stored.
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={"field": "code", "reason": f"parent unit {parent} does not exist"},
        )
    unit = UnitRow(code=body.code, name=body.name, level=body.level, parent=parent)
    session.add(unit)
    session.commit()
    audit(engine, who, "unit.create", target=body.code)
    return _public(unit)
