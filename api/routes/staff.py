"""Staff: who holds which role where, with the phone their warnings go to.

Bodies are validated here rather than by FastAPI's default 422, whose answer echoes the input
back: a refused phone number must not travel into error messages (and the logs they reach).
Changes need the admin token when one is configured. CSV import is all or nothing: every row
is checked first and any error refuses the whole file with a report per row.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Header, HTTPException, Query, Request, status
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from api.deps import SessionDep, SettingsDep
from contracts.organisation import StaffIn, normalize_mobile
from core.config import Settings
from policies.codes import ROLES
from readmodel.organisation import StaffBase, StaffRow, UnitRow

router = APIRouter(prefix="/api/staff", tags=["organisation"])

M = TypeVar("M", bound=BaseModel)

CSV_COLUMNS = ("code", "name", "roles", "unit", "department", "phone", "active")


class StaffPublic(StaffBase):
    pass


class FieldError(BaseModel):
    field: str
    reason: str


class RowError(BaseModel):
    #: 1-based line number in the file (the header is line 1).
    row: int
    code: str | None = None
    field: str
    reason: str


class ImportReport(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = []
    dry_run: bool = False


def require_admin(settings: Settings, token: str | None, what: str) -> None:
    if settings.admin_token is not None and (
        token is None or token != settings.admin_token.get_secret_value()
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail={"field": "x-admin-token", "reason": f"{what} needs the admin token"},
        )


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Pydantic's errors without the offending input (it may be a phone number)."""
    out = []
    for err in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        msg = err["msg"].removeprefix("Value error, ")
        # A model-level check names its field at the start of its message.
        if loc == "body" or not err["loc"]:
            head, sep, rest = msg.partition(": ")
            if sep and " " not in head:
                loc, msg = head, rest
        out.append(FieldError(field=loc, reason=msg))
    return out


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[e.model_dump() for e in field_errors(exc)],
        ) from None


def unit_exists(session: Session, code: str) -> bool:
    return session.get(UnitRow, code) is not None


def _public(s: StaffRow) -> StaffPublic:
    return StaffPublic.model_validate(s, from_attributes=True)


@router.get("", response_model=list[StaffPublic])
def list_staff(
    session: SessionDep,
    unit: Annotated[str | None, Query(description="This unit and the units under it")] = None,
    role: str | None = None,
    active: bool | None = None,
) -> list[StaffPublic]:
    query = select(StaffRow)
    if unit is not None:
        query = query.where(
            (col(StaffRow.unit) == unit) | col(StaffRow.unit).startswith(f"{unit}/")
        )
    if active is not None:
        query = query.where(col(StaffRow.active).is_(active))
    rows = session.exec(query.order_by(col(StaffRow.unit), col(StaffRow.code))).all()
    if role is not None:
        if role not in ROLES:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail={"field": "role", "reason": "unknown role code (GLOSSARY.md roles)"},
            )
        rows = [r for r in rows if role in r.roles]
    return [_public(r) for r in rows]


@router.get("/{code}", response_model=StaffPublic)
def get_staff(code: str, session: SessionDep) -> StaffPublic:
    row = session.exec(select(StaffRow).where(StaffRow.code == code)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={"reason": f"no staff {code}"})
    return _public(row)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=StaffPublic)
def create_staff(
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[
        dict[str, Any],
        Body(description="code, name, roles, unit, department, phone (mainland mobile), active"),
    ],
    x_admin_token: Annotated[str | None, Header()] = None,
) -> StaffPublic:
    require_admin(settings, x_admin_token, "changing staff")
    data = validate(StaffIn, body)
    if not unit_exists(session, data.unit):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={"field": "unit", "reason": f"no unit {data.unit}: create it first"},
        )
    if session.exec(select(StaffRow).where(StaffRow.code == data.code)).first() is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={"field": "code", "reason": f"staff {data.code} exists; PATCH it instead"},
        )
    row = StaffRow(**data.model_dump())
    session.add(row)
    session.commit()
    session.refresh(row)
    return _public(row)


@router.patch("/{code}", response_model=StaffPublic)
def update_staff(
    code: str,
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[dict[str, Any], Body(description="any of the staff fields but code")],
    x_admin_token: Annotated[str | None, Header()] = None,
) -> StaffPublic:
    require_admin(settings, x_admin_token, "changing staff")
    row = session.exec(select(StaffRow).where(StaffRow.code == code)).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={"reason": f"no staff {code}"})
    if "code" in body and body["code"] != code:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={"field": "code", "reason": "a staff code cannot change"},
        )
    merged = {**_public(row).model_dump(), **body}
    data = validate(StaffIn, merged)
    if not unit_exists(session, data.unit):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={"field": "unit", "reason": f"no unit {data.unit}"},
        )
    for key, value in data.model_dump().items():
        setattr(row, key, value)
    session.add(row)
    session.commit()
    session.refresh(row)
    return _public(row)


def parse_csv(text: str, known_units: set[str]) -> tuple[list[StaffIn], list[RowError]]:
    """Rows of `code,name,roles,unit,department,phone,active` (roles separated by ';');
    department and active may be blank (marketing, true)."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("code", "name", "roles", "unit", "phone") if c not in header]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if missing or unknown:
        reason = "; ".join(
            part
            for part in (
                f"missing column(s) {', '.join(missing)}" if missing else "",
                f"unknown column(s) {', '.join(unknown)}" if unknown else "",
            )
            if part
        )
        return [], [RowError(row=1, field="header", reason=reason)]
    good: list[StaffIn] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        code = row.get("code") or None
        data: dict[str, Any] = {
            "code": row.get("code", ""),
            "name": row.get("name", ""),
            "roles": [r.strip() for r in row.get("roles", "").replace("|", ";").split(";") if r],
            "unit": row.get("unit", ""),
            "phone": row.get("phone", ""),
        }
        if row.get("department"):
            data["department"] = row["department"]
        if row.get("active"):
            flag = row["active"].lower()
            if flag not in {"true", "false", "1", "0", "yes", "no"}:
                errors.append(RowError(row=line, code=code, field="active", reason="not a boolean"))
                continue
            data["active"] = flag in {"true", "1", "yes"}
        try:
            item = StaffIn.model_validate(data)
        except ValidationError as exc:
            errors += [
                RowError(row=line, code=code, field=e.field, reason=e.reason)
                for e in field_errors(exc)
            ]
            continue
        if item.unit not in known_units:
            errors.append(RowError(row=line, code=code, field="unit", reason="no such unit"))
            continue
        if item.code in seen:
            errors.append(
                RowError(
                    row=line, code=code, field="code", reason=f"repeats line {seen[item.code]}"
                )
            )
            continue
        seen[item.code] = line
        good.append(item)
    return good, errors


@router.post("/import", response_model=ImportReport)
async def import_staff(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    dry_run: bool = False,
    x_admin_token: Annotated[str | None, Header()] = None,
) -> ImportReport:
    """Body: a UTF-8 CSV file (`text/csv`). Creates new staff and updates existing ones by
    code. Any row error refuses the whole file (422 with the report); nothing is written."""
    require_admin(settings, x_admin_token, "importing staff")
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={"field": "body", "reason": "not UTF-8 text"},
        ) from None
    units = set(session.exec(select(UnitRow.code)).all())
    items, errors = parse_csv(text, units)
    report = ImportReport(errors=errors, dry_run=dry_run)
    if not items and not errors:
        report.errors.append(RowError(row=1, field="body", reason="no rows"))
    if report.errors:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=report.model_dump(mode="json")
        )
    existing = {s.code: s for s in session.exec(select(StaffRow)).all()}
    for item in items:
        values = item.model_dump()
        row = existing.get(item.code)
        if row is None:
            session.add(StaffRow(**values))
            report.created += 1
        elif all(getattr(row, k) == v for k, v in values.items()):
            report.unchanged += 1
        else:
            for k, v in values.items():
                setattr(row, k, v)
            session.add(row)
            report.updated += 1
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


__all__ = ["normalize_mobile", "require_admin", "router", "validate"]
