"""The audit trail: who (staff code), from where (client address), what and when, for every
change made through the API: events, holds, cancels, plan decisions, notice answers, staff and
unit changes, calendar publishing, requeues and webhook replays.

Rows are only ever added. They hold codes and numbers, never a customer's or staff member's
name or phone, nor a password.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, ColumnElement, Engine
from sqlmodel import Field, Session, SQLModel, col, func, select

from readmodel.types import UTCDateTime


class AuditBase(SQLModel):
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    #: The signed-in staff code.
    actor: str = Field(index=True, max_length=64)
    #: The client's address as the API saw it (behind a proxy: the proxy's, unless it forwards).
    address: str | None = Field(default=None, max_length=64)
    #: What was done: `<area>.<verb>`, e.g. `application.event`, `staff.update`.
    action: str = Field(max_length=64)
    application_no: str | None = Field(default=None, index=True, max_length=64)
    #: The unit the change belongs to (the application's, else the actor's): whose directors
    #: read it. Rows written before the column have none and are shown to superusers only.
    unit: str | None = Field(default=None, index=True, max_length=128)
    #: What else the action was about: a staff code, a unit, a calendar region, a delivery id.
    target: str | None = Field(default=None, max_length=128)
    #: Codes only (an event code, the fields changed); never personal data or secrets.
    detail: dict[str, str] = Field(default_factory=dict, sa_type=JSON)


class AuditRow(AuditBase, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)


def record(engine: Engine, entry: AuditBase) -> None:
    with Session(engine) as session:
        session.add(AuditRow.model_validate(entry, from_attributes=True))
        session.commit()


def now() -> datetime:
    return datetime.now(UTC)


def search(
    engine: Engine,
    *,
    unit: str | None = None,
    application_no: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[AuditRow], int]:
    """Newest first, with the total that matched; of `unit` and the units under it, if named."""
    filters: list[ColumnElement[bool]] = []
    if unit is not None:
        filters.append((col(AuditRow.unit) == unit) | col(AuditRow.unit).startswith(unit + "/"))
    if application_no is not None:
        filters.append(col(AuditRow.application_no) == application_no)
    if actor is not None:
        filters.append(col(AuditRow.actor) == actor)
    if since is not None:
        filters.append(col(AuditRow.at) >= since)
    if until is not None:
        filters.append(col(AuditRow.at) < until)
    with Session(engine) as session:
        total = session.exec(select(func.count()).select_from(AuditRow).where(*filters)).one()
        rows = session.exec(
            select(AuditRow)
            .where(*filters)
            .order_by(col(AuditRow.at).desc(), col(AuditRow.id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
    return list(rows), total
