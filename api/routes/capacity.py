"""Open capacity and capacity reservations (`/api/grid/open-capacity`, `/api/grid/reservations`):
what each feeder and transformer can still take, and what issued plans hold on them, first
come, first served (docs/grid.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlmodel import Session, col, func, select

from api.auth import require
from api.deps import EngineDep, SessionDep, SettingsDep
from api.grid_kinds import IdQ, Page, UnitQ, unit_under
from api.instants import localised, zone_of
from api.problems import ProblemError, problems
from api.schemas import PageLimit, PageOffset, json_integer
from api.validation import conflict
from contracts.application import APPLICATION_NO_PATTERN
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
from policies.profile import Voltage
from readmodel import grid as g
from readmodel import reservations as rsv
from readmodel.applications import ApplicationRow

#: Reading needs `reference.read`; holding and releasing capacity `plans.decide` as well.
router = APIRouter(prefix="/api/grid", tags=["grid"], dependencies=[require("reference.read")])


class _Limits:
    """Loading limits by (unit, kind), each pack read once per request."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, ResourceKind], LoadingLimit] = {}

    def __call__(self, unit: str, kind: ResourceKind) -> LoadingLimit:
        key = (unit, kind)
        if key not in self._cache:
            self._cache[key] = limit_for_unit(unit, kind)
        return self._cache[key]


@router.get("/open-capacity", response_model=Page[OpenCapacity], responses=problems(422))
def open_capacity(
    session: SessionDep,
    unit: UnitQ = None,
    voltage: Annotated[
        Voltage | None,
        Query(description="10kV, 35kV, ...: feeders at it; 380V or 220V: transformers"),
    ] = None,
    kind: ResourceKind | None = None,
    offset: PageOffset = 0,
    limit: PageLimit = 100,
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


#: Plans are revised a handful of times; the bound keeps the number within any integer column.
PlanVersion = Annotated[int, Field(ge=1, le=1_000_000), BeforeValidator(json_integer)]


class ReserveBody(BaseModel):
    """A plan's request for capacity on a feeder or a transformer."""

    model_config = ConfigDict(extra="forbid")

    application_no: str = Field(pattern=APPLICATION_NO_PATTERN)
    plan_version: PlanVersion
    kind: ResourceKind
    id: g.ResourceId
    kva: float = Field(gt=0, le=g.MAX_KVA, strict=True)


class ReleaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_no: str = Field(pattern=APPLICATION_NO_PATTERN)
    plan_version: PlanVersion | None = Field(default=None, description="All versions when absent")
    reason: ReleaseReason = "cancelled"


def _kva(value: float) -> str:
    # Sums of floats drift in their last digits; a tenth of a kVA is what an operator reads.
    return f"{round(value, 1) + 0.0:g} kVA"


def _refusal(outcome: ReserveOutcome, kind: ResourceKind) -> ProblemError:
    if outcome.outcome == "no_capacity":
        open_now = f" ({_kva(outcome.open_kva)} open)" if outcome.open_kva is not None else ""
        return ProblemError(
            field="kva",
            reason=f"more than the open capacity of the {kind}{open_now}: try the next point",
        )
    if outcome.outcome == "superseded":
        return ProblemError(
            field="plan_version",
            reason="the application holds capacity for a later plan version",
        )
    if outcome.outcome == "released":
        return ProblemError(
            field="plan_version",
            reason="this reservation was released: make a new plan version",
        )
    return ProblemError(field="id", reason=f"no such {kind}")


def _zones(session: Session, fallback: str, numbers: Iterable[str]) -> dict[str, ZoneInfo]:
    """The zone of each application's unit (docs/api.md), or the deployment's for a number
    the read model does not know (yet)."""
    wanted = set(numbers)
    units = dict(
        session.exec(
            select(ApplicationRow.application_no, ApplicationRow.unit).where(
                col(ApplicationRow.application_no).in_(wanted)
            )
        ).all()
    )
    return {n: zone_of(units.get(n), fallback) for n in wanted}


def _local(session: Session, fallback: str, items: list[Reservation]) -> list[Reservation]:
    zones = _zones(session, fallback, (r.application_no for r in items))
    return [localised(r, zones[r.application_no]) for r in items]


@router.post(
    "/reservations",
    response_model=ReserveOutcome,
    responses=problems(403, 409, 422),
    dependencies=[require("plans.decide")],
)
def reserve(
    body: ReserveBody, engine: EngineDep, session: SessionDep, settings: SettingsDep
) -> ReserveOutcome:
    """Hold capacity for a plan (first come, first served); asking again with the same
    application, plan version and resource answers the same reservation. Refused (409,
    naming the field): no such feeder or transformer (`id`), not enough open capacity
    (`kva`, the reason says how much is open), a plan version replaced or released
    (`plan_version`)."""
    row: Any = session.get(g.FeederRow if body.kind == "feeder" else g.TransformerRow, body.id)
    if row is None:
        raise conflict(_refusal(ReserveOutcome(outcome="unknown_resource"), body.kind))
    zone = _zones(session, settings.timezone, [body.application_no])[body.application_no]
    # The reservation takes the database's write lock: nothing of this session may hold it.
    session.close()
    outcome = rsv.reserve(
        engine,
        body.application_no,
        body.plan_version,
        ResourceRef(kind=body.kind, id=body.id),
        body.kva,
        loading_limit=limit_for_unit(row.unit, body.kind).value,
    )
    if outcome.outcome != "granted":
        raise conflict(_refusal(outcome, body.kind))
    return localised(outcome, zone)


@router.post(
    "/reservations/release",
    response_model=list[Reservation],
    responses=problems(403, 422),
    dependencies=[require("plans.decide")],
)
def release(
    body: ReleaseBody, engine: EngineDep, session: SessionDep, settings: SettingsDep
) -> list[Reservation]:
    """Release what the application holds; answers what this call released (none when it
    was released already)."""
    released = rsv.release(engine, body.application_no, body.plan_version, reason=body.reason)
    return _local(session, settings.timezone, released)


@router.get("/reservations", response_model=Page[Reservation], responses=problems(422))
def list_reservations(
    session: SessionDep,
    settings: SettingsDep,
    application_no: Annotated[str | None, Query(pattern=APPLICATION_NO_PATTERN)] = None,
    kind: ResourceKind | None = None,
    id: IdQ = None,
    state: Literal["held", "released"] | None = None,
    offset: PageOffset = 0,
    limit: PageLimit = 100,
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
    items = _local(session, settings.timezone, [rsv.reservation_value(r) for r in rows])
    return Page(items=items, total=total, offset=offset, limit=limit)
