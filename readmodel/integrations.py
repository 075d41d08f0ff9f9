"""The integrations' tables: every webhook delivery with its outcome, and the projections of
reserve projects, proposed registrations and permit results.

A delivery is stored before anything else happens to it, keyed by (kind, webhook-id): a
redelivery finds the row and gets its first answer again, and the unique key makes two
concurrent deliveries of the same id one row. Delivery bodies hold personal data (names,
contacts, addresses): they live here and nowhere else outside the workflows' inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Engine, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from contracts.integrations import PermitOutcome
from readmodel.types import UTCDateTime


def _now() -> datetime:
    return datetime.now(UTC)


class DeliveryBase(SQLModel):
    webhook_id: str = Field(max_length=128)
    kind: str = Field(index=True, max_length=16)
    received_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(index=True, max_length=16)
    #: The HTTP status given, and given again to a redelivery (with `answer`, the row's).
    answer_status: int
    #: The workflow the delivery was handed to.
    workflow_id: str | None = Field(default=None, max_length=128)
    attempts: int = 0
    #: Why the last hand-over failed (an error type and the field at fault: nothing personal).
    last_error: str | None = Field(default=None, max_length=500)
    #: What the work behind it did, once done (a permit's outcome).
    effect: str | None = Field(default=None, max_length=500)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class DeliveryRow(DeliveryBase, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("kind", "webhook_id"),)

    id: int | None = Field(default=None, primary_key=True)
    #: The answer's body, given again to a redelivery.
    answer: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    #: The body as received (JSON text when it parsed, else None): the read model only.
    body: Any = Field(default=None, sa_type=JSON)


class DeliveryPublic(DeliveryBase):
    id: int


def find_delivery(engine: Engine, kind: str, webhook_id: str) -> DeliveryRow | None:
    with Session(engine) as session:
        return session.exec(
            select(DeliveryRow).where(
                col(DeliveryRow.kind) == kind, col(DeliveryRow.webhook_id) == webhook_id
            )
        ).first()


def store_delivery(
    engine: Engine, row: DeliveryRow, answer: Callable[[int], dict[str, Any]]
) -> tuple[DeliveryRow, bool]:
    """Insert the delivery with the answer it gets (`answer(its id)`, in the same transaction,
    so a redelivery never sees it without one); (the stored row, True) or, when its (kind,
    webhook-id) is already stored (a redelivery racing the first), (that row, False)."""
    with Session(engine) as session:
        session.add(row)
        try:
            session.flush()
            assert row.id is not None
            row.answer = answer(row.id)
            session.commit()
        except IntegrityError:
            session.rollback()
            found = find_delivery(engine, row.kind, row.webhook_id)
            if found is None:
                raise
            return found, False
        session.refresh(row)
        return row, True


def set_answer(engine: Engine, delivery: int, answer_status: int, answer: dict[str, Any]) -> None:
    with Session(engine) as session:
        row = session.get(DeliveryRow, delivery)
        if row is not None:
            row.answer_status, row.answer = answer_status, answer
            session.add(row)
            session.commit()


def set_status(
    engine: Engine,
    delivery: int,
    status: str,
    *,
    workflow_id: str | None = None,
    error: str | None = None,
) -> None:
    with Session(engine) as session:
        row = session.get(DeliveryRow, delivery)
        if row is None:
            return
        row.status = status
        row.attempts += 1
        row.workflow_id = workflow_id or row.workflow_id
        row.last_error = error
        row.updated_at = _now()
        session.add(row)
        session.commit()


def handed_over_by_another(engine: Engine, workflow_id: str, delivery: int) -> bool:
    """Another delivery already started `workflow_id` (the same project or registration sent
    again under a new webhook-id)."""
    with Session(engine) as session:
        found = session.exec(
            select(DeliveryRow.id).where(
                col(DeliveryRow.workflow_id) == workflow_id,
                col(DeliveryRow.id) != delivery,
                col(DeliveryRow.status) == "accepted",
            )
        ).first()
        return found is not None


def set_effect(engine: Engine, delivery: int, effect: str) -> None:
    with Session(engine) as session:
        row = session.get(DeliveryRow, delivery)
        if row is not None:
            row.effect, row.updated_at = effect[:500], _now()
            session.add(row)
            session.commit()


# -- reserve projects ---------------------------------------------------------------------------


class ReserveProjectRow(SQLModel, table=True):
    """A reserve project (储备项目) as its workflow last wrote it."""

    __tablename__ = "reserve_project"

    id: str = Field(primary_key=True, max_length=64)
    unit: str = Field(index=True, max_length=128)
    state: str = Field(index=True, max_length=16)
    voltage: str = Field(max_length=8)
    expected_load_kva: float
    #: The project's name: personal data of a business, shown to staff, never logged.
    name: str = Field(max_length=200)
    received_at: datetime = Field(sa_type=UTCDateTime)
    next_reminder_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminders: int = 0
    follow_ups: int = 0
    application_no: str | None = Field(default=None, max_length=64)
    #: The workflow's full status (ReserveProjectStatus), for the API's answer.
    status: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class RegistrationRow(SQLModel, table=True):
    """A proposed 主动办电 application from a business registration, for the unit's customer
    managers."""

    __tablename__ = "proposed_registration"

    registration_no: str = Field(primary_key=True, max_length=64)
    unit: str = Field(index=True, max_length=128)
    state: str = Field(index=True, max_length=16)
    received_at: datetime = Field(sa_type=UTCDateTime)
    next_reminder_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminders: int = 0
    application_no: str | None = Field(default=None, max_length=64)
    customer_manager: str | None = Field(default=None, max_length=64)
    status: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = Field(sa_type=UTCDateTime)


def upsert(engine: Engine, row: ReserveProjectRow | RegistrationRow) -> None:
    """Write the workflow's latest view (idempotent: the row is replaced by the same values on
    a retry)."""
    with Session(engine) as session:
        session.merge(row)
        session.commit()


# -- permits ------------------------------------------------------------------------------------


class PermitRow(SQLModel, table=True):
    """The latest result of each permit kind of an application: an older result arriving late
    changes nothing."""

    __tablename__ = "permit_result"

    application_no: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=32)
    result: str = Field(max_length=16)
    decided_at: datetime = Field(sa_type=UTCDateTime)
    delivery: int
    #: The customer manager a rejection returned the application to.
    returned_to: str | None = Field(default=None, max_length=64)
    outcome: str = Field(default="", max_length=500)
    updated_at: datetime = Field(sa_type=UTCDateTime)


def record_permit(
    engine: Engine, application_no: str, kind: str, result: str, decided_at: datetime, delivery: int
) -> tuple[bool, list[PermitRow]]:
    """Keep the result when it is the kind's latest; (kept, every kind's latest row)."""
    with Session(engine) as session:
        row = session.get(PermitRow, (application_no, kind))
        kept = row is None or decided_at > row.decided_at or row.delivery == delivery
        if kept:
            row = row or PermitRow(
                application_no=application_no,
                kind=kind,
                result=result,
                decided_at=decided_at,
                delivery=delivery,
                updated_at=_now(),
            )
            row.result, row.decided_at, row.delivery = result, decided_at, delivery
            row.updated_at = _now()
            session.add(row)
            session.commit()
        rows = session.exec(
            select(PermitRow).where(col(PermitRow.application_no) == application_no)
        ).all()
        return kept, list(rows)


def permit_outcome(engine: Engine, application_no: str, kind: str, outcome: PermitOutcome) -> None:
    with Session(engine) as session:
        row = session.get(PermitRow, (application_no, kind))
        if row is not None:
            row.outcome = outcome.outcome + (f": {outcome.reason}" if outcome.reason else "")
            row.returned_to = outcome.returned_to
            row.updated_at = _now()
            session.add(row)
            session.commit()
