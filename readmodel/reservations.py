"""Capacity reservations: what issued plans hold on feeders and transformers.

First come, first served. A reservation is checked and written in one transaction that holds
the resource exclusively, so when two applications race for the last open capacity exactly one
gets it and the other is told `no_capacity`:
- SQLite: `BEGIN IMMEDIATE` takes the database's write lock before anything is read;
- PostgreSQL: `SELECT ... FOR UPDATE` locks the feeder's or transformer's row, and the sum of
  what is held is read after the lock (each statement sees what committed before it).

Idempotent under activity retries and worker crashes: a reservation is keyed by (application,
plan version, resource), and asking again returns the one that exists, held or released. A
later plan version replaces the earlier ones: when it is granted, the application's holds for
earlier versions are released in the same transaction (their capacity counts as open for it),
and a request for an earlier version than one already made is refused as `superseded`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, Index, Table, UniqueConstraint, func, select, update
from sqlmodel import Field, SQLModel

from contracts.grid import Reservation, ReserveOutcome, ResourceKind, ResourceRef, open_kva
from readmodel.grid import FeederRow, TransformerRow
from readmodel.types import UTCDateTime

#: Requests within this of the open capacity fit (sums of floats drift in the last digits).
KVA_TOLERANCE = 1e-6


class ReservationBase(SQLModel):
    application_no: str = Field(index=True, max_length=64)
    plan_version: int = Field(ge=1)
    resource_kind: str = Field(max_length=16)
    resource_id: str = Field(max_length=64)
    kva: float = Field(gt=0)
    state: str = Field(default="held", max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: cancelled, replaced, expired or revised.
    release_reason: str | None = Field(default=None, max_length=32)


class ReservationRow(ReservationBase, table=True):
    __tablename__ = "capacity_reservation"
    __table_args__ = (
        UniqueConstraint("application_no", "plan_version", "resource_kind", "resource_id"),
        # The open-capacity sum reads the holds of one resource.
        Index("ix_capacity_reservation_resource", "resource_kind", "resource_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)


RESERVATION: Table = ReservationRow.__table__  # type: ignore[attr-defined]
FEEDER: Table = FeederRow.__table__  # type: ignore[attr-defined]
TRANSFORMER: Table = TransformerRow.__table__  # type: ignore[attr-defined]


def _resource_table(kind: ResourceKind) -> tuple[Table, str]:
    """The table of a resource kind and the column of what is already connected to it."""
    return (FEEDER, "used_kva") if kind == "feeder" else (TRANSFORMER, "load_kva")


def reservation_value(row: ReservationRow) -> Reservation:
    return Reservation(
        id=row.id or 0,
        application_no=row.application_no,
        plan_version=row.plan_version,
        resource=ResourceRef(kind=row.resource_kind, id=row.resource_id),  # type: ignore[arg-type]
        kva=row.kva,
        state=row.state,  # type: ignore[arg-type]
        created_at=row.created_at,
        released_at=row.released_at,
        release_reason=row.release_reason,
    )


def _value(mapping: object) -> Reservation:
    return reservation_value(ReservationRow.model_validate(mapping, from_attributes=True))


def reserve(
    engine: Engine,
    application_no: str,
    plan_version: int,
    resource: ResourceRef,
    kva: float,
    *,
    loading_limit: float,
    now: datetime | None = None,
) -> ReserveOutcome:
    """Hold `kva` on `resource` for the application's plan version, if it is open.

    `loading_limit` is the pack's (domain.grid.loading_limit): the read model does not read
    policies. Safe to call again with the same arguments: the answer is the same reservation.
    """
    if kva <= 0:
        raise ValueError("kva: must be positive")
    if plan_version < 1:
        raise ValueError("plan_version: must be 1 or more")
    now = now or datetime.now(UTC)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # Taken before the first read: a deferred transaction would let two requests read
            # the same open capacity and both insert.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            outcome = _reserve_locked(
                conn, application_no, plan_version, resource, kva, loading_limit, now
            )
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    return outcome


def _reserve_locked(
    conn: Connection,
    application_no: str,
    plan_version: int,
    resource: ResourceRef,
    kva: float,
    loading_limit: float,
    now: datetime,
) -> ReserveOutcome:
    table, used_column = _resource_table(resource.kind)
    query = select(table.c.rated_kva, table.c[used_column]).where(table.c.id == resource.id)
    # The lock comes first, so that two retries of one request are serialised as well.
    found = conn.execute(query.with_for_update()).first()
    if found is None:
        return ReserveOutcome(outcome="unknown_resource")
    rated, used = float(found[0]), float(found[1])
    mine = RESERVATION.c.application_no == application_no
    existing = conn.execute(
        select(RESERVATION).where(
            mine,
            RESERVATION.c.plan_version == plan_version,
            RESERVATION.c.resource_kind == resource.kind,
            RESERVATION.c.resource_id == resource.id,
        )
    ).first()
    if existing is not None:
        value = _value(existing._mapping)
        return ReserveOutcome(
            outcome="granted" if value.state == "held" else "released", reservation=value
        )
    newer = conn.execute(
        select(func.count()).where(mine, RESERVATION.c.plan_version > plan_version)
    ).scalar_one()
    if newer:
        return ReserveOutcome(outcome="superseded")
    held = conn.execute(
        select(func.coalesce(func.sum(RESERVATION.c.kva), 0.0)).where(
            RESERVATION.c.resource_kind == resource.kind,
            RESERVATION.c.resource_id == resource.id,
            RESERVATION.c.state == "held",
            # This application's earlier plans are released below if this one is granted.
            ~(mine & (RESERVATION.c.plan_version < plan_version)),
        )
    ).scalar_one()
    available = open_kva(rated, loading_limit, used, float(held))
    if kva > available + KVA_TOLERANCE:
        return ReserveOutcome(outcome="no_capacity", open_kva=available)
    conn.execute(
        update(RESERVATION)
        .where(mine, RESERVATION.c.plan_version < plan_version, RESERVATION.c.state == "held")
        .values(state="released", released_at=now, release_reason="replaced")
    )
    inserted = conn.execute(
        RESERVATION.insert().values(
            application_no=application_no,
            plan_version=plan_version,
            resource_kind=resource.kind,
            resource_id=resource.id,
            kva=kva,
            state="held",
            created_at=now,
        )
    ).inserted_primary_key
    assert inserted is not None
    value = Reservation(
        id=inserted[0],
        application_no=application_no,
        plan_version=plan_version,
        resource=resource,
        kva=kva,
        state="held",
        created_at=now,
    )
    return ReserveOutcome(outcome="granted", reservation=value, open_kva=available)


def release(
    engine: Engine,
    application_no: str,
    plan_version: int | None = None,
    *,
    reason: str = "cancelled",
    now: datetime | None = None,
) -> list[Reservation]:
    """Release what the application holds (of one plan version, or all of them): the plan was
    cancelled, replaced or expired. Idempotent: what is already released stays as it was.
    Returns the reservations released by this call."""
    now = now or datetime.now(UTC)
    where = [RESERVATION.c.application_no == application_no, RESERVATION.c.state == "held"]
    if plan_version is not None:
        where.append(RESERVATION.c.plan_version == plan_version)
    with engine.begin() as conn:
        ids = list(conn.execute(select(RESERVATION.c.id).where(*where)).scalars())
        if not ids:
            return []
        conn.execute(
            update(RESERVATION)
            .where(RESERVATION.c.id.in_(ids), RESERVATION.c.state == "held")
            .values(state="released", released_at=now, release_reason=reason)
        )
        rows = conn.execute(select(RESERVATION).where(RESERVATION.c.id.in_(ids))).all()
    return [_value(r._mapping) for r in rows]


def reservations_of(engine: Engine, application_no: str) -> list[Reservation]:
    """Every reservation the application has made, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(RESERVATION)
            .where(RESERVATION.c.application_no == application_no)
            .order_by(RESERVATION.c.id)
        ).all()
    return [_value(r._mapping) for r in rows]


def held_kva(
    conn: Connection, kind: ResourceKind, ids: list[str] | None = None
) -> dict[str, float]:
    """What is held on each resource of a kind (those with no hold are absent)."""
    query = (
        select(RESERVATION.c.resource_id, func.sum(RESERVATION.c.kva))
        .where(RESERVATION.c.resource_kind == kind, RESERVATION.c.state == "held")
        .group_by(RESERVATION.c.resource_id)
    )
    if ids is not None:
        query = query.where(RESERVATION.c.resource_id.in_(ids))
    return {rid: float(total) for rid, total in conn.execute(query).all()}


def release_resources(
    engine: Engine,
    application_no: str,
    plan_version: int,
    resources: list[ResourceRef],
    *,
    reason: str = "replaced",
    now: datetime | None = None,
) -> list[Reservation]:
    """Release what one plan version holds on `resources` (a plan made again after a resource
    it first held on was dropped). Idempotent, as `release`."""
    if not resources:
        return []
    now = now or datetime.now(UTC)
    mine = [
        RESERVATION.c.application_no == application_no,
        RESERVATION.c.plan_version == plan_version,
        RESERVATION.c.state == "held",
    ]
    with engine.begin() as conn:
        rows = conn.execute(select(RESERVATION).where(*mine)).all()
        wanted = {(r.kind, r.id) for r in resources}
        ids = [r.id for r in rows if (r.resource_kind, r.resource_id) in wanted]
        if not ids:
            return []
        conn.execute(
            update(RESERVATION)
            .where(RESERVATION.c.id.in_(ids))
            .values(state="released", released_at=now, release_reason=reason)
        )
        released = conn.execute(select(RESERVATION).where(RESERVATION.c.id.in_(ids))).all()
    return [_value(r._mapping) for r in released]
