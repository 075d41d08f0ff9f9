"""Grid activities: the snapshot of resources a plan is computed from, and the capacity an
issued plan reserves (and gives back when it is cancelled, replaced or expires).

Reservations are idempotent by (application, plan version, resource), so a retried activity
or a worker that crashed after the commit gets the same answer again; the loading limit comes
from the pack of the resource's unit.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity

from contracts.grid import (
    ReleaseRequest,
    Reservation,
    ReserveOutcome,
    ReserveRequest,
    SnapshotRequest,
)
from domain.grid import limit_for_unit, snapshot_of
from policies.plans.resources import GridSnapshot
from readmodel import reservations
from readmodel.grid import FeederRow, TransformerRow
from readmodel.grid_reads import rows_near


class GridActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @activity.defn
    def grid_snapshot(self, req: SnapshotRequest) -> GridSnapshot:
        with Session(self._engine) as session:
            rows = rows_near(session, req.location.lon, req.location.lat, req.radius_km, req.unit)
        return snapshot_of(rows)

    @activity.defn
    def reserve_capacity(self, req: ReserveRequest) -> ReserveOutcome:
        with Session(self._engine) as session:
            row: FeederRow | TransformerRow | None = (
                session.get(FeederRow, req.resource.id)
                if req.resource.kind == "feeder"
                else session.get(TransformerRow, req.resource.id)
            )
            unit = None if row is None else row.unit
        if unit is None:
            return ReserveOutcome(outcome="unknown_resource")
        return reservations.reserve(
            self._engine,
            req.application_no,
            req.plan_version,
            req.resource,
            req.kva,
            loading_limit=limit_for_unit(unit, req.resource.kind).value,
        )

    @activity.defn
    def release_capacity(self, req: ReleaseRequest) -> list[Reservation]:
        return reservations.release(
            self._engine, req.application_no, req.plan_version, reason=req.reason
        )
