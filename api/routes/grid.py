"""Grid resources (`/api/grid/...`): substations, feeders, public distribution transformers,
connection points and the customers on each feeder.

Each kind has list (filtered, paged), get, create, update (PATCH) and an all-or-nothing CSV
import (docs/grid.md gives the columns). Bodies are the kind's declared models; a field that
refers to nothing stored (a unit, a feeder) is a 409 naming it, as is a change that no longer
fits the rows that depend on it. Reading needs `reference.read`, changes `grid.manage`
(docs/access.md). Open capacity and reservations are in `api.routes.capacity`.
"""

from __future__ import annotations

import csv
from operator import attrgetter
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, or_, select
from starlette.concurrency import run_in_threadpool

from api.auth import CurrentUser, UnitScope, require
from api.csv_import import (
    MAX_CSV_BYTES,
    ImportReport,
    RowError,
    csv_records,
    csv_text,
    parse_records,
    refuse_if_errors,
    upsert_by_id,
)
from api.deps import SessionDep
from api.grid_kinds import BY_PATH, KINDS, IdQ, Kind, Page, UnitQ, page, unit_under
from api.grid_refs import GridRefs
from api.problems import ProblemError, problems
from api.schemas import PageLimit, PageOffset
from api.validation import conflict, field_errors, invalid
from contracts.errors import FieldError
from contracts.grid import LV_VOLTAGES
from core.access import Principal
from policies.profile import Voltage
from readmodel import grid as g

#: Reading the grid needs `reference.read`; changing it `grid.manage` as well.
router = APIRouter(prefix="/api/grid", tags=["grid"], dependencies=[require("reference.read")])

ResourceIdPath = Annotated[
    str, Path(max_length=64, pattern=g.RESOURCE_ID_RE.pattern, description="The row's id")
]


# --------------------------------------------------------------------------- lists


@router.get("/substations", response_model=Page[g.SubstationPublic], responses=problems(422))
def list_substations(
    session: SessionDep,
    unit: UnitQ = None,
    voltage: Voltage | None = None,
    offset: PageOffset = 0,
    limit: PageLimit = 100,
) -> Page[Any]:
    row = g.SubstationRow
    filters = [] if unit is None else [unit_under(row.unit, unit)]
    if voltage is not None:
        filters.append(col(row.voltage) == voltage)
    return page(session, BY_PATH["substations"], filters, offset, limit)


@router.get("/feeders", response_model=Page[g.FeederPublic], responses=problems(422))
def list_feeders(
    session: SessionDep,
    unit: UnitQ = None,
    voltage: Voltage | None = None,
    substation: IdQ = None,
    offset: PageOffset = 0,
    limit: PageLimit = 100,
) -> Page[Any]:
    row = g.FeederRow
    filters = [] if unit is None else [unit_under(row.unit, unit)]
    for column, value in ((row.voltage, voltage), (row.substation, substation)):
        if value is not None:
            filters.append(col(column) == value)
    return page(session, BY_PATH["feeders"], filters, offset, limit)


@router.get("/transformers", response_model=Page[g.TransformerPublic], responses=problems(422))
def list_transformers(
    session: SessionDep,
    unit: UnitQ = None,
    voltage: Annotated[
        Voltage | None,
        Query(description="The feeder's voltage (10kV); 380V or 220V: every transformer"),
    ] = None,
    feeder: IdQ = None,
    offset: PageOffset = 0,
    limit: PageLimit = 100,
) -> Page[Any]:
    row = g.TransformerRow
    filters = [] if unit is None else [unit_under(row.unit, unit)]
    if feeder is not None:
        filters.append(col(row.feeder) == feeder)
    join = None
    if voltage is not None and voltage not in LV_VOLTAGES:
        join = g.FeederRow
        filters.append(col(g.FeederRow.voltage) == voltage)
    return page(session, BY_PATH["transformers"], filters, offset, limit, join)


@router.get(
    "/connection-points", response_model=Page[g.ConnectionPointPublic], responses=problems(422)
)
def list_points(
    session: SessionDep,
    unit: UnitQ = None,
    voltage: Voltage | None = None,
    feeder: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=g.RESOURCE_ID_RE.pattern,
            description="On the feeder, or on a transformer of the feeder",
        ),
    ] = None,
    transformer: IdQ = None,
    restricted: bool | None = None,
    offset: PageOffset = 0,
    limit: PageLimit = 100,
) -> Page[Any]:
    row = g.ConnectionPointRow
    filters = [] if unit is None else [unit_under(row.unit, unit)]
    for column, value in ((row.voltage, voltage), (row.transformer, transformer)):
        if value is not None:
            filters.append(col(column) == value)
    if restricted is not None:
        filters.append(col(row.restricted).is_(restricted))
    if feeder is not None:
        on_its_transformers = select(g.TransformerRow.id).where(g.TransformerRow.feeder == feeder)
        filters.append(
            or_(col(row.feeder) == feeder, col(row.transformer).in_(on_its_transformers))
        )
    return page(session, BY_PATH["connection-points"], filters, offset, limit)


@router.get("/customers", response_model=Page[g.GridCustomerPublic], responses=problems(422))
def list_customers(
    session: SessionDep,
    # Customers carry names and phones: the caller's own unit and those under it only.
    unit: UnitScope,
    voltage: Annotated[
        Voltage | None,
        Query(description="The feeder's voltage; 380V or 220V: customers on a transformer"),
    ] = None,
    feeder: IdQ = None,
    transformer: IdQ = None,
    offset: PageOffset = 0,
    limit: PageLimit = 100,
) -> Page[Any]:
    row, feeders = g.GridCustomerRow, g.FeederRow
    filters = [] if unit is None else [unit_under(feeders.unit, unit)]
    for column, value in ((row.feeder, feeder), (row.transformer, transformer)):
        if value is not None:
            filters.append(col(column) == value)
    if voltage in LV_VOLTAGES:
        filters.append(col(row.transformer).is_not(None))
    elif voltage is not None:
        filters.append(col(feeders.voltage) == voltage)
    return page(session, BY_PATH["customers"], filters, offset, limit, join=feeders)


# --------------------------------------------------------------------------- get, create, update


def _found(session: Session, kind: Kind, rid: str) -> Any:
    row = session.get(kind.row, rid)
    if row is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail={"field": "id", "reason": f"no such {kind.label}"}
        )
    return row


def _sees_customer(session: Session, user: Principal, customer: g.GridCustomerRow) -> bool:
    """A customer (name, phone) is shown in the scope of its feeder's unit only."""
    feeder = session.get(g.FeederRow, customer.feeder)
    return user.sees(feeder.unit if feeder is not None else None)


def _clashes(errors: list[FieldError]) -> HTTPException:
    return conflict(*(ProblemError(field=e.field, reason=e.reason) for e in errors))


def _public(kind: Kind, row: Any) -> Any:
    return kind.public.model_validate(row, from_attributes=True)


def _create_row(kind: Kind, session: Session, item: Any) -> Any:
    """A new row from a body FastAPI has validated: its references must exist (409)."""
    errors = kind.check(GridRefs(session), item)
    if errors:
        raise _clashes(errors)
    if session.get(kind.row, item.id) is not None:
        raise conflict(
            ProblemError(field="id", reason=f"the {kind.label} exists: PATCH it instead")
        )
    row = kind.row(**item.model_dump())
    session.add(row)
    session.commit()
    session.refresh(row)
    return _public(kind, row)


def _update_row(kind: Kind, session: Session, rid: str, body: BaseModel) -> Any:
    """The stored row with the fields given, checked as a new one: a result that does not fit
    (a restricted point left without its reason, a reference to nothing) is a 409."""
    row = _found(session, kind, rid)
    merged = {**_public(kind, row).model_dump(), **body.model_dump(exclude_unset=True)}
    try:
        item = kind.create.model_validate(merged)
    except ValidationError as exc:
        raise conflict(*field_errors(exc)) from None
    errors = kind.check(GridRefs(session), item)
    if kind.on_change is not None:
        errors += kind.on_change(session, row, item)
    if errors:
        raise _clashes(errors)
    for key, value in item.model_dump().items():
        setattr(row, key, value)
    session.add(row)
    session.commit()
    session.refresh(row)
    return _public(kind, row)


def _import_rows(kind: Kind, session: Session, text: str, dry_run: bool) -> ImportReport:
    """Check every row, then write them all or none."""
    try:
        records, errors = csv_records(text, kind.columns, kind.required)
    except csv.Error as exc:
        raise invalid(ProblemError(field="body", reason=f"not a CSV file: {exc}")) from None
    refs = GridRefs(session).preload()
    parsed = parse_records(
        records, kind.create, lambda item: kind.check(refs, item), attrgetter("id")
    )
    errors += parsed.errors
    if not parsed.items and not errors:
        errors.append(RowError(row=1, field="body", reason="no rows"))
    refuse_if_errors(errors)
    report = ImportReport(kind=kind.path, dry_run=dry_run)
    upsert_by_id(session, kind.row, parsed.items, report)
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


def _csv_body(kind: Kind) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string", "maxLength": MAX_CSV_BYTES},
                    "example": ",".join(kind.columns) + "\n",
                }
            },
        }
    }


def _register(kind: Kind) -> None:
    """The kind's get, create, update and import routes (its list route is its own above)."""

    def get_one(rid: ResourceIdPath, session: SessionDep, user: CurrentUser) -> Any:
        found = _found(session, kind, rid)
        if kind.row is g.GridCustomerRow and not _sees_customer(session, user, found):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, detail={"field": "id", "reason": f"no such {kind.label}"}
            )
        return _public(kind, found)

    def create(session: SessionDep, body: Any) -> Any:
        return _create_row(kind, session, body)

    def update(rid: ResourceIdPath, session: SessionDep, body: Any) -> Any:
        return _update_row(kind, session, rid, body)

    # The body's model is the kind's: set here, as FastAPI reads it from the signature.
    create.__annotations__["body"] = kind.create
    update.__annotations__["body"] = kind.update

    async def import_csv(
        request: Request, session: SessionDep, dry_run: bool = False
    ) -> ImportReport:
        text = await csv_text(request)
        # A file of thousands of rows takes a while to check: not on the event loop.
        return await run_in_threadpool(_import_rows, kind, session, text, dry_run)

    base = f"/{kind.path}"
    import_doc = (
        f"Body: a UTF-8 CSV file (`text/csv`) with the columns {', '.join(kind.columns)}. "
        "Creates new rows and updates existing ones by id. Any row error refuses the whole "
        "file (422, one `errors` entry per line and field, with `row`); nothing is written."
    )
    admin = [require("grid.manage")]
    r, slug = router, kind.path.replace("-", "_")
    r.get(
        base + "/{rid}", response_model=kind.public, responses=problems(404, 422),
        operation_id=f"get_{slug}", summary=f"One {kind.label}",
    )(get_one)  # fmt: skip
    r.post(
        base, status_code=201, response_model=kind.public, responses=problems(403, 409, 422),
        dependencies=admin, operation_id=f"create_{slug}", summary=f"Create a {kind.label}",
    )(create)  # fmt: skip
    r.patch(
        base + "/{rid}", response_model=kind.public, responses=problems(403, 404, 409, 422),
        dependencies=admin, operation_id=f"update_{slug}", summary=f"Change a {kind.label}",
    )(update)  # fmt: skip
    r.post(
        base + "/import", response_model=ImportReport, responses=problems(403, 413, 422),
        dependencies=admin, openapi_extra=_csv_body(kind), description=import_doc,
        operation_id=f"import_{slug}", summary=f"Import {kind.path} from CSV",
    )(import_csv)  # fmt: skip


for _kind in KINDS:
    _register(_kind)
