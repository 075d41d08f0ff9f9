"""Outage plans (停送电计划): one row per planned outage, the applications it carries (一停多用),
and the reads the scheduling and the API make of them.

An application is carried by at most one live outage (proposed, submitted, approved): the
scheduling activity looks for it first, so a retried or replayed activity finds its own outage
instead of planning a second one. Affected customers are kept as the feeder's customer numbers
when the outage was planned; their names and phones stay in `grid_customer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Engine, func
from sqlmodel import Field, Session, SQLModel, col, select

from contracts.outages import LIVE_STATES, OutageFlag
from readmodel.grid import GridCustomerRow
from readmodel.types import UTCDateTime


class OutagePlanBase(SQLModel):
    unit: str = Field(index=True, max_length=128)
    tier: str = Field(index=True, max_length=16)
    feeder: str | None = Field(default=None, index=True, max_length=64)
    start_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    end_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The outage's day in the unit's zone (what crews and sharing count by).
    day: date | None = Field(default=None, index=True)
    state: str = Field(index=True, max_length=16)
    #: Other jobs done in the same outage (maintenance, 技改): their references.
    jobs: list[str] = Field(default_factory=list, sa_type=JSON)
    #: The feeder's customer numbers when the outage was planned.
    affected_customers: list[str] = Field(default_factory=list, sa_type=JSON)
    notice_sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: How the slot was chosen (rules and clauses), for dispatch and the status.
    explanation: list[str] = Field(default_factory=list, sa_type=JSON)
    #: Flags with their clause (an outage where live-line work was possible).
    flags: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    #: The rejected outage this one replaces, and dispatch's reason on this one.
    replaces: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=2000)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class OutagePlanRow(OutagePlanBase, table=True):
    __tablename__ = "outage_plan"

    id: str = Field(primary_key=True, max_length=64)


class OutageApplicationRow(SQLModel, table=True):
    """An application an outage carries (its energization is one of the outage's works)."""

    __tablename__ = "outage_plan_application"

    outage_id: str = Field(primary_key=True, max_length=64, foreign_key="outage_plan.id")
    application_no: str = Field(primary_key=True, max_length=64, index=True)
    joined_at: datetime = Field(sa_type=UTCDateTime)
    #: The application's energization was recorded, or it was cancelled, since.
    settled: str | None = Field(default=None, max_length=16)


class OutagePublic(OutagePlanBase):
    id: str
    flags: list[OutageFlag] = []  # type: ignore[assignment]
    applications: list[str] = []


# --------------------------------------------------------------------------- reads


def applications_of(session: Session, outage_id: str) -> list[str]:
    rows = session.exec(
        select(OutageApplicationRow.application_no)
        .where(OutageApplicationRow.outage_id == outage_id)
        .order_by(col(OutageApplicationRow.joined_at), col(OutageApplicationRow.application_no))
    )
    return list(rows.all())


def public(session: Session, row: OutagePlanRow) -> OutagePublic:
    return OutagePublic(**row.model_dump(), applications=applications_of(session, row.id))


def live_outage_of(session: Session, application_no: str) -> OutagePlanRow | None:
    """The live outage carrying the application, if any."""
    return session.exec(
        select(OutagePlanRow)
        .join(OutageApplicationRow, col(OutageApplicationRow.outage_id) == col(OutagePlanRow.id))
        .where(
            OutageApplicationRow.application_no == application_no,
            col(OutagePlanRow.state).in_(LIVE_STATES),
        )
    ).first()


def outages_held(session: Session, application_no: str) -> int:
    """How many outages ever carried the application (numbers the next one)."""
    return int(
        session.exec(
            select(func.count()).where(OutageApplicationRow.application_no == application_no)
        ).one()
    )


def booked_per_day(session: Session, unit: str, first: date) -> dict[date, int]:
    """Live outages (not live-line work) per day in the unit, from `first` on: the crews."""
    rows = session.exec(
        select(col(OutagePlanRow.day), func.count())
        .where(
            OutagePlanRow.unit == unit,
            col(OutagePlanRow.state).in_(LIVE_STATES),
            OutagePlanRow.tier != "live_line",
            col(OutagePlanRow.day) >= first,
        )
        .group_by(col(OutagePlanRow.day))
    ).all()
    return {d: n for d, n in rows if d is not None}


def planned_on_feeder(session: Session, feeder: str, first: date) -> list[OutagePlanRow]:
    return list(
        session.exec(
            select(OutagePlanRow).where(
                OutagePlanRow.feeder == feeder,
                col(OutagePlanRow.state).in_(LIVE_STATES),
                OutagePlanRow.tier != "live_line",
                col(OutagePlanRow.day) >= first,
            )
        ).all()
    )


def feeder_customers(session: Session, feeder: str) -> list[GridCustomerRow]:
    return list(
        session.exec(
            select(GridCustomerRow)
            .where(GridCustomerRow.feeder == feeder)
            .order_by(col(GridCustomerRow.id))
        ).all()
    )


def list_outages(
    engine: Engine,
    *,
    unit: str | None = None,
    feeder: str | None = None,
    application: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    state: str | None = None,
    limit: int = 500,
) -> list[OutagePublic]:
    """Outages by the API's filters, in the order of their start (live-line work last)."""
    where: list[ColumnElement[bool]] = []
    if unit is not None:
        where.append(
            (col(OutagePlanRow.unit) == unit) | col(OutagePlanRow.unit).startswith(unit + "/")
        )
    if feeder is not None:
        where.append(col(OutagePlanRow.feeder) == feeder)
    if state is not None:
        where.append(col(OutagePlanRow.state) == state)
    if start is not None:
        where.append(col(OutagePlanRow.end_at) > start)
    if end is not None:
        where.append(col(OutagePlanRow.start_at) < end)
    if application is not None:
        carried = select(OutageApplicationRow.outage_id).where(
            OutageApplicationRow.application_no == application
        )
        where.append(col(OutagePlanRow.id).in_(carried))
    with Session(engine) as session:
        rows = session.exec(
            select(OutagePlanRow)
            .where(*where)
            .order_by(
                col(OutagePlanRow.start_at).is_(None),
                col(OutagePlanRow.start_at),
                col(OutagePlanRow.id),
            )
            .limit(limit)
        ).all()
        return [public(session, r) for r in rows]


def get_outage(engine: Engine, outage_id: str) -> OutagePublic | None:
    with Session(engine) as session:
        row = session.get(OutagePlanRow, outage_id)
        return None if row is None else public(session, row)


def set_state(
    engine: Engine,
    outage_id: str,
    state: str,
    at: datetime,
    *,
    from_states: Sequence[str],
    by: str | None = None,
    reason: str | None = None,
) -> OutagePublic | None:
    """Move the outage to `state` if it is in one of `from_states` (or already there); the
    outage as it then is, or None when it does not exist."""
    with Session(engine) as session:
        row = session.get(OutagePlanRow, outage_id)
        if row is None:
            return None
        if row.state != state and row.state in from_states:
            row.state = state
            row.decided_at = at
            row.decided_by = by
            if reason is not None:
                row.reason = reason
            row.updated_at = at
            session.add(row)
            session.commit()
            session.refresh(row)
        return public(session, row)


def waiting_applications(engine: Engine, outage_id: str) -> list[str]:
    """The applications the outage still carries (not yet energized or cancelled)."""
    with Session(engine) as session:
        rows = session.exec(
            select(OutageApplicationRow.application_no)
            .where(
                OutageApplicationRow.outage_id == outage_id,
                col(OutageApplicationRow.settled).is_(None),
            )
            .order_by(col(OutageApplicationRow.joined_at), col(OutageApplicationRow.application_no))
        )
        return list(rows.all())
