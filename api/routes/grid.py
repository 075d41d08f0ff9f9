"""Grid resources (`/api/grid/...`): substations, feeders, public distribution transformers,
connection points and the customers on each feeder, with their open capacity and the capacity
reservations of issued plans.

Each kind has list (filtered, paged), get, create, update (PATCH) and an all-or-nothing CSV
import (docs/grid.md gives the columns). Bodies are validated here rather than by FastAPI's
default 422, whose answer echoes the input: a customer's phone must not travel into error
messages. Changes need the admin token when one is configured.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, func, or_, select
from starlette.concurrency import run_in_threadpool

from api.csv_import import (
    ImportReport,
    RowError,
    csv_records,
    csv_text,
    parse_records,
    refuse_if_errors,
    upsert_by_id,
)
from api.deps import EngineDep, SessionDep, require_admin
from api.grid_kinds import BY_PATH, KINDS, Kind, Page, page, unit_under
from api.grid_refs import GridRefs
from api.inputs import json_body_schema, unprocessable, validate
from contracts.application import APPLICATION_NO_PATTERN
from contracts.errors import FieldError
from contracts.grid import (
    LV_VOLTAGES,
    OpenCapacity,
    ReleaseReason,
    Reservation,
    ReserveOutcome,
    ResourceKind,
    ResourceRef,
)
from domain.grid import LoadingLimit, feeder_capacity, limit_for_unit, transformer_capacity
from readmodel import grid as g
from readmodel import reservations as rsv

router = APIRouter(prefix="/api/grid", tags=["grid"])

ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "The admin token is configured and missing or wrong"},
    404: {"description": "No such resource"},
    409: {"description": "The id exists already"},
    422: {"description": "A field is invalid or refers to nothing: `{field, reason}`"},
}
Offset = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=500)]
UnitQ = Annotated[str | None, Query(description="This unit and the units under it")]


# --------------------------------------------------------------------------- lists


@router.get("/substations", response_model=Page[g.SubstationPublic], responses=ERRORS)
def list_substations(
    session: SessionDep,
    unit: UnitQ = None,
    voltage: str | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[Any]:
    row = g.SubstationRow
    filters = [] if unit is None else [unit_under(row.unit, unit)]
    if voltage is not None:
        filters.append(col(row.voltage) == voltage)
    return page(session, BY_PATH["substations"], filters, offset, limit)


@router.get("/feeders", response_model=Page[g.FeederPublic], responses=ERRORS)
def list_feeders(
    session: SessionDep,
    unit: UnitQ = None,
    voltage: str | None = None,
    substation: str | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[Any]:
    row = g.FeederRow
    filters = [] if unit is None else [unit_under(row.unit, unit)]
    for column, value in ((row.voltage, voltage), (row.substation, substation)):
        if value is not None:
            filters.append(col(column) == value)
    return page(session, BY_PATH["feeders"], filters, offset, limit)


@router.get("/transformers", response_model=Page[g.TransformerPublic], responses=ERRORS)
def list_transformers(
    session: SessionDep,
    unit: UnitQ = None,
    voltage: Annotated[
        str | None,
        Query(description="The feeder's voltage (10kV); 380V or 220V: every transformer"),
    ] = None,
    feeder: str | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
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


@router.get("/connection-points", response_model=Page[g.ConnectionPointPublic], responses=ERRORS)
def list_points(
    session: SessionDep,
    unit: UnitQ = None,
    voltage: str | None = None,
    feeder: Annotated[
        str | None, Query(description="On the feeder, or on a transformer of the feeder")
    ] = None,
    transformer: str | None = None,
    restricted: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
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


@router.get("/customers", response_model=Page[g.GridCustomerPublic], responses=ERRORS)
def list_customers(
    session: SessionDep,
    unit: Annotated[str | None, Query(description="The feeder's unit, or one above it")] = None,
    voltage: Annotated[
        str | None,
        Query(description="The feeder's voltage; 380V or 220V: customers on a transformer"),
    ] = None,
    feeder: str | None = None,
    transformer: str | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
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


def _checked(kind: Kind, session: Session, data: dict[str, Any], row: Any = None) -> Any:
    """The body as the kind's create model, its references checked; 422 otherwise."""
    item = validate(kind.create, data)
    errors = kind.check(GridRefs(session), item)
    if row is not None and kind.on_change is not None:
        errors += kind.on_change(session, row, item)
    if errors:
        raise unprocessable(errors)
    return item


def _public(kind: Kind, row: Any) -> Any:
    return kind.public.model_validate(row, from_attributes=True)


def _create_row(kind: Kind, session: Session, body: dict[str, Any]) -> Any:
    item = _checked(kind, session, body)
    if session.get(kind.row, item.id) is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail={"field": "id", "reason": f"the {kind.label} exists: PATCH it instead"},
        )
    row = kind.row(**item.model_dump())
    session.add(row)
    session.commit()
    session.refresh(row)
    return _public(kind, row)


def _update_row(kind: Kind, session: Session, rid: str, body: dict[str, Any]) -> Any:
    row = _found(session, kind, rid)
    if "id" in body and body["id"] != rid:
        raise unprocessable([FieldError(field="id", reason="an id cannot change")])
    changes = validate(kind.update, {k: v for k, v in body.items() if k != "id"})
    merged = {**_public(kind, row).model_dump(), **changes.model_dump(exclude_unset=True)}
    item = _checked(kind, session, merged, row)
    for key, value in item.model_dump().items():
        setattr(row, key, value)
    session.add(row)
    session.commit()
    session.refresh(row)
    return _public(kind, row)


def _import_rows(kind: Kind, session: Session, text: str, dry_run: bool) -> ImportReport:
    """Check every row, then write them all or none."""
    records, errors = csv_records(text, kind.columns, kind.required)
    refs = GridRefs(session).preload()
    parsed = parse_records(
        records, kind.create, lambda item: kind.check(refs, item), attrgetter("id")
    )
    report = ImportReport(kind=kind.path, errors=errors + parsed.errors, dry_run=dry_run)
    if not parsed.items and not report.errors:
        report.errors.append(RowError(row=1, field="body", reason="no rows"))
    refuse_if_errors(report)
    upsert_by_id(session, kind.row, parsed.items, report)
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


CSV_BODY = {
    "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
}


def _register(kind: Kind) -> None:
    """The kind's get, create, update and import routes (its list route is its own above)."""

    def get_one(rid: str, session: SessionDep) -> Any:
        return _public(kind, _found(session, kind, rid))

    def create(
        session: SessionDep,
        body: Annotated[dict[str, Any], Body(description="The new row: see the schema")],
    ) -> Any:
        return _create_row(kind, session, body)

    def update(
        rid: str,
        session: SessionDep,
        body: Annotated[dict[str, Any], Body(description="Any of the fields but id")],
    ) -> Any:
        return _update_row(kind, session, rid, body)

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
        "file (422 with a report naming each line and field); nothing is written."
    )
    r, slug = router, kind.path.replace("-", "_")
    r.get(
        base + "/{rid}", response_model=kind.public, responses=ERRORS,
        operation_id=f"get_{slug}",
    )(get_one)  # fmt: skip
    r.post(
        base, status_code=201, response_model=kind.public, responses=ERRORS,
        dependencies=[Depends(require_admin)], openapi_extra=json_body_schema(kind.create),
        operation_id=f"create_{slug}",
    )(create)  # fmt: skip
    r.patch(
        base + "/{rid}", response_model=kind.public, responses=ERRORS,
        dependencies=[Depends(require_admin)], openapi_extra=json_body_schema(kind.update),
        operation_id=f"update_{slug}",
    )(update)  # fmt: skip
    r.post(
        base + "/import", response_model=ImportReport, responses=ERRORS,
        dependencies=[Depends(require_admin)], openapi_extra=CSV_BODY, description=import_doc,
        operation_id=f"import_{slug}",
    )(import_csv)  # fmt: skip


for _kind in KINDS:
    _register(_kind)


# --------------------------------------------------------------------------- open capacity


class _Limits:
    """Loading limits by (unit, kind), each pack read once per request."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, ResourceKind], LoadingLimit] = {}

    def __call__(self, unit: str, kind: ResourceKind) -> LoadingLimit:
        key = (unit, kind)
        if key not in self._cache:
            self._cache[key] = limit_for_unit(unit, kind)
        return self._cache[key]


@router.get("/open-capacity", response_model=Page[OpenCapacity], responses=ERRORS)
def open_capacity(
    session: SessionDep,
    unit: UnitQ = None,
    voltage: Annotated[
        str | None,
        Query(description="10kV, 35kV, ...: feeders at it; 380V or 220V: transformers"),
    ] = None,
    kind: ResourceKind | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[OpenCapacity]:
    """Per feeder and transformer: rated × the pack's loading limit − used − reserved.
    Feeders first, then transformers, each by id."""
    f, t = g.FeederRow, g.TransformerRow
    feeder_filters = [] if unit is None else [unit_under(f.unit, unit)]
    transformer_filters = [] if unit is None else [unit_under(t.unit, unit)]
    if voltage is not None:
        feeder_filters.append(col(f.voltage) == voltage)
    want_feeders = kind in (None, "feeder") and voltage not in LV_VOLTAGES
    want_transformers = kind in (None, "transformer") and (
        voltage is None or voltage in LV_VOLTAGES
    )
    count = select(func.count())
    nf = session.exec(count.select_from(f).where(*feeder_filters)).one() if want_feeders else 0
    nt = session.exec(count.select_from(t).where(*transformer_filters)).one()
    nt = nt if want_transformers else 0
    limits, conn = _Limits(), session.connection()
    items: list[OpenCapacity] = []
    if offset < nf:
        rows = session.exec(
            select(f).where(*feeder_filters).order_by(col(f.id)).offset(offset).limit(limit)
        ).all()
        held = rsv.held_kva(conn, "feeder", [r.id for r in rows])
        items += [feeder_capacity(r, held.get(r.id, 0.0), limits(r.unit, "feeder")) for r in rows]
    room = limit - len(items)
    if room > 0 and nt:
        rows_t = session.exec(
            select(t)
            .where(*transformer_filters)
            .order_by(col(t.id))
            .offset(max(0, offset - nf))
            .limit(room)
        ).all()
        held = rsv.held_kva(conn, "transformer", [r.id for r in rows_t])
        items += [
            transformer_capacity(r, held.get(r.id, 0.0), limits(r.unit, "transformer"))
            for r in rows_t
        ]
    return Page(items=items, total=nf + nt, offset=offset, limit=limit)


# --------------------------------------------------------------------------- reservations


class ReserveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_no: str = Field(pattern=APPLICATION_NO_PATTERN)
    plan_version: int = Field(ge=1)
    kind: ResourceKind
    id: str = Field(min_length=1, max_length=64)
    kva: float = Field(gt=0, le=g.MAX_KVA)


class ReleaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_no: str = Field(pattern=APPLICATION_NO_PATTERN)
    plan_version: int | None = Field(default=None, ge=1, description="All versions when absent")
    reason: ReleaseReason = "cancelled"


_REFUSED = {
    "no_capacity": ("kva", "more than the open capacity of the {kind}: try the next point"),
    "superseded": ("plan_version", "the application holds capacity for a later plan version"),
    "released": ("plan_version", "this reservation was released: make a new plan version"),
}


@router.post(
    "/reservations",
    response_model=ReserveOutcome,
    responses={**ERRORS, 409: {"description": "No capacity, or a stale plan version"}},
    dependencies=[Depends(require_admin)],
)
def reserve(body: ReserveBody, engine: EngineDep, session: SessionDep) -> ReserveOutcome:
    """Hold capacity for a plan (first come, first served); asking again with the same
    application, plan version and resource answers the same reservation."""
    row: Any = session.get(g.FeederRow if body.kind == "feeder" else g.TransformerRow, body.id)
    if row is None:
        raise unprocessable([FieldError(field="id", reason=f"no such {body.kind}")])
    session.close()
    outcome = rsv.reserve(
        engine,
        body.application_no,
        body.plan_version,
        ResourceRef(kind=body.kind, id=body.id),
        body.kva,
        loading_limit=limit_for_unit(row.unit, body.kind).value,
    )
    if outcome.outcome in _REFUSED:
        field, reason = _REFUSED[outcome.outcome]
        detail: dict[str, Any] = {"field": field, "reason": reason.format(kind=body.kind)}
        if outcome.open_kva is not None:
            detail["open_kva"] = outcome.open_kva
        raise HTTPException(status.HTTP_409_CONFLICT, detail=detail)
    if outcome.outcome == "unknown_resource":
        raise unprocessable([FieldError(field="id", reason=f"no such {body.kind}")])
    return outcome


@router.post(
    "/reservations/release",
    response_model=list[Reservation],
    responses=ERRORS,
    dependencies=[Depends(require_admin)],
)
def release(body: ReleaseBody, engine: EngineDep) -> list[Reservation]:
    """Release what the application holds; answers what this call released (none when it
    was released already)."""
    return rsv.release(engine, body.application_no, body.plan_version, reason=body.reason)


@router.get("/reservations", response_model=Page[Reservation], responses=ERRORS)
def list_reservations(
    session: SessionDep,
    application_no: str | None = None,
    kind: ResourceKind | None = None,
    id: str | None = None,
    state: Literal["held", "released"] | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[Reservation]:
    row = rsv.ReservationRow
    filters = []
    for column, value in (
        (row.application_no, application_no),
        (row.resource_kind, kind),
        (row.resource_id, id),
        (row.state, state),
    ):
        if value is not None:
            filters.append(col(column) == value)
    total = session.exec(select(func.count()).select_from(row).where(*filters)).one()
    rows = session.exec(
        select(row).where(*filters).order_by(col(row.id)).offset(offset).limit(limit)
    ).all()
    items = [rsv.reservation_value(r) for r in rows]
    return Page(items=items, total=total, offset=offset, limit=limit)
