"""Staff: who holds which role where, with the phone their warnings go to.

Bodies are declared models: a refused field is named in the 422 problem, and the refused value
is never echoed back (a phone number must not travel into error messages and the logs they
reach). Reading needs `reference.read` and lists the caller's unit and the units under it;
changes need `staff.manage`, and set a member's password (`password`, never answered, only
its argon2 hash is stored). CSV import is all or nothing:
every row is checked first and any error refuses the whole file with a report per row.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field, SecretStr, StrictBool, ValidationError
from sqlmodel import Session, col, select

from api.audit import audit
from api.auth import ActorDep, CurrentUser, UnitScope, require
from api.deps import EngineDep, SessionDep
from api.problems import ProblemError, problems
from api.validation import field_errors, invalid
from contracts.organisation import (
    STAFF_CODE_RE,
    Department,
    MobileInput,
    Role,
    Roles,
    StaffIn,
    UnitCode,
)
from contracts.text import PersonName
from core.security import hash_password
from readmodel.organisation import StaffBase, StaffRow, UnitRow

router = APIRouter(prefix="/api/staff", tags=["organisation"])

CSV_COLUMNS = ("code", "name", "roles", "unit", "department", "phone", "active")
#: An import is one request: a file beyond this is split by whoever sends it.
MAX_CSV_BYTES = 2_000_000

StaffCode = Annotated[str, Path(max_length=64, pattern=STAFF_CODE_RE.pattern)]


class StaffPublic(StaffBase):
    pass


#: A password as an administrator sets it: never answered, never logged (SecretStr).
Password = SecretStr


class StaffCreate(StaffIn):
    """A new member of staff; with a `password` they can sign in (username: their code)."""

    password: Password | None = Field(
        default=None,
        min_length=8,
        max_length=128,
        description="Sets the sign-in password (8 to 128 characters); never answered",
    )


class StaffPatch(BaseModel):
    """Any of a staff member's fields but the code, which never changes; a field absent or
    null is left as it is."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=StaffIn.model_config.get("json_schema_extra")
    )

    name: PersonName | None = None
    roles: Roles | None = None
    unit: UnitCode | None = None
    department: Department | None = None
    phone: MobileInput | None = None
    active: StrictBool | None = None
    password: Password | None = Field(
        default=None,
        min_length=8,
        max_length=128,
        description="Sets a new sign-in password (8 to 128 characters); never answered",
    )


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
    dry_run: bool = False


def unit_exists(session: Session, code: str) -> bool:
    return session.get(UnitRow, code) is not None


def _no_unit(unit: str) -> HTTPException:
    # A well-formed request naming a unit the organisation lacks: a clash with what is stored.
    return HTTPException(
        status.HTTP_409_CONFLICT,
        detail={"field": "unit", "reason": f"no unit {unit}: create it first"},
    )


def _public(s: StaffRow) -> StaffPublic:
    return StaffPublic.model_validate(s, from_attributes=True)


def _not_found(code: str) -> HTTPException:
    return HTTPException(
        status.HTTP_404_NOT_FOUND, detail={"field": "code", "reason": f"no staff {code}"}
    )


READ = [require("reference.read")]
MANAGE = [require("staff.manage")]


@router.get("", response_model=list[StaffPublic], responses=problems(404, 422), dependencies=READ)
def list_staff(
    session: SessionDep,
    unit: UnitScope,
    role: Role | None = None,
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
        rows = [r for r in rows if role in r.roles]
    return [_public(r) for r in rows]


@router.get("/{code}", response_model=StaffPublic, responses=problems(404, 422), dependencies=READ)
def get_staff(code: StaffCode, session: SessionDep, user: CurrentUser) -> StaffPublic:
    row = session.exec(select(StaffRow).where(StaffRow.code == code)).first()
    if row is None or not (user.sees(row.unit) or user.code == code):
        raise _not_found(code)  # another unit's member: as if there were none
    return _public(row)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=StaffPublic,
    responses=problems(403, 409, 422),
    dependencies=MANAGE,
)
def create_staff(
    body: StaffCreate, session: SessionDep, who: ActorDep, engine: EngineDep
) -> StaffPublic:
    if not unit_exists(session, body.unit):
        raise _no_unit(body.unit)
    if session.exec(select(StaffRow).where(StaffRow.code == body.code)).first() is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={"field": "code", "reason": f"staff {body.code} exists; PATCH it instead"},
        )
    row = StaffRow(**body.model_dump(exclude={"password"}))
    if body.password is not None:
        row.password_hash = hash_password(body.password.get_secret_value())
    session.add(row)
    session.commit()
    session.refresh(row)
    audit(engine, who, "staff.create", target=body.code, detail=_changed(body))
    return _public(row)


@router.patch(
    "/{code}",
    response_model=StaffPublic,
    responses=problems(403, 404, 409, 422),
    dependencies=MANAGE,
)
def update_staff(
    code: StaffCode, body: StaffPatch, session: SessionDep, who: ActorDep, engine: EngineDep
) -> StaffPublic:
    """The fields given replace the stored ones. A change that does not fit what is stored
    (a department role for someone left in marketing) is a 409 naming the fields."""
    row = session.exec(select(StaffRow).where(StaffRow.code == code)).first()
    if row is None:
        raise _not_found(code)
    merged = {
        **_public(row).model_dump(),
        **body.model_dump(exclude_none=True, exclude={"password"}),
    }
    try:
        data = StaffIn.model_validate(merged)
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={"errors": [e.model_dump(exclude_none=True) for e in field_errors(exc)]},
        ) from None
    if not unit_exists(session, data.unit):
        raise _no_unit(data.unit)
    for key, value in data.model_dump().items():
        setattr(row, key, value)
    if body.password is not None:
        row.password_hash = hash_password(body.password.get_secret_value())
    session.add(row)
    session.commit()
    session.refresh(row)
    audit(engine, who, "staff.update", target=code, detail=_changed(body))
    return _public(row)


def _changed(body: BaseModel) -> dict[str, str]:
    """Which fields a change set, never their values (names, phones, passwords)."""
    return {"fields": ",".join(sorted(body.model_dump(exclude_none=True)))}


def parse_csv(text: str, known_units: set[str]) -> tuple[list[StaffIn], list[RowError]]:
    """Rows of `code,name,roles,unit,department,phone,active` (roles separated by ';');
    department and active may be blank (marketing, true)."""
    # Universal newlines: files from Windows and old Macs end their lines with \r.
    reader = csv.DictReader(io.StringIO(text, newline=None))
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


CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string", "maxLength": MAX_CSV_BYTES},
                "example": "code,name,roles,unit,department,phone,active\n"
                "cm-001,王客户经理,customer_manager,henan/sanmenxia,,13800000001,\n",
            }
        },
    }
}


@router.post(
    "/import",
    response_model=ImportReport,
    responses=problems(403, 413, 422),
    openapi_extra=CSV_BODY,
    dependencies=MANAGE,
)
async def import_staff(
    request: Request,
    session: SessionDep,
    who: ActorDep,
    engine: EngineDep,
    dry_run: bool = False,
) -> ImportReport:
    """Body: a UTF-8 CSV file (`text/csv`), columns `code,name,roles,unit,department,phone,
    active` (roles separated by ';'). Creates new staff and updates existing ones by code. Any
    row error refuses the whole file (422, one `errors` entry per row and field, with `row`);
    nothing is written."""
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail={"field": "body", "reason": f"larger than {MAX_CSV_BYTES} bytes"},
        )
    try:
        text = raw.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError:
        raise invalid(ProblemError(field="body", reason="not UTF-8 text")) from None
    units = set(session.exec(select(UnitRow.code)).all())
    try:
        items, errors = parse_csv(text, units)
    except csv.Error as exc:
        raise invalid(ProblemError(field="body", reason=f"not a CSV file: {exc}")) from None
    if not items and not errors:
        errors.append(RowError(row=1, field="body", reason="no rows"))
    if errors:
        raise invalid(*(ProblemError(field=e.field, reason=e.reason, row=e.row) for e in errors))
    report = ImportReport(dry_run=dry_run)
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
        audit(engine, who, "staff.import", detail={"created": str(report.created),
                                                   "updated": str(report.updated)})  # fmt: skip
    return report
