"""The SMS outbox as a queue: enqueue idempotently, claim the rows due, mark them sent or
failed, move them between windows, requeue failed ones, list them.

Windows are the caller's: this module stores and compares instants, and asks a `WindowFinder`
(the domain's send windows) where a row goes when it must move. Exactly once rests on three
things here: the outbox's unique key (application, monitor, level, phone) makes every enqueue
idempotent; a row is claimed by a compare-and-set on its attempts, with a lease, before the
gateway sees it; and it is marked sent in its own commit right after the gateway accepts it.
Phones are personal data: nothing here logs them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Engine, Executable, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from contracts.notifications import SendWindow
from contracts.organisation import unit_chain
from readmodel.organisation import StaffRow
from readmodel.outbox import OutboxBase, OutboxRow, UndeliverableRow

#: Gateway answers and errors are cut to their column's length.
ANSWER_LENGTH = 500


class WindowFinder(Protocol):
    """The window of a unit's messages of one kind (warning, appointment, progress) at `at`:
    the next one to start, or with `join_open` the one open at `at`."""

    def __call__(self, unit: str, kind: str, at: datetime, *, join_open: bool) -> SendWindow: ...


def _aware(value: datetime | None) -> datetime | None:
    # Aggregates (min) bypass the column type, so SQLite hands back a naive UTC instant.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _due(at: datetime) -> tuple[ColumnElement[bool], ...]:
    """Pending, inside its window at `at`, and held by no live claim."""
    return (
        col(OutboxRow.state) == "pending",
        col(OutboxRow.send_after) <= at,
        col(OutboxRow.send_before) > at,
        or_(col(OutboxRow.claimed_until).is_(None), col(OutboxRow.claimed_until) <= at),
    )


def _add_missing(session: Session, row: UndeliverableRow) -> None:
    exists = session.exec(
        select(UndeliverableRow.id).where(
            UndeliverableRow.application_no == row.application_no,
            UndeliverableRow.monitor == row.monitor,
            UndeliverableRow.level == row.level,
            UndeliverableRow.role == row.role,
            UndeliverableRow.department == row.department,
        )
    ).first()
    if exists is None:
        session.add(row)
        session.flush()


class DueBatch:
    """One dispatch's rows, read once, and what the dispatch does to each, each in its own
    commit. After a commit a row reloads, so `unchanged` sees a concurrent dispatch's work."""

    def __init__(
        self, session: Session, at: datetime, rows: list[OutboxRow], limit: int, rescheduled: int
    ) -> None:
        self._session = session
        self._at = at
        self.rows = rows
        self.full = len(rows) == limit
        # As read now: a claim must compare against what this dispatch saw, not what a
        # concurrent one has written since.
        self._seen = {row.id: row.attempts for row in rows}
        #: Rows moved to a later window before the batch was read (their window had closed).
        self.rescheduled = rescheduled

    def unchanged(self, row: OutboxRow) -> bool:
        """Still pending and attempted by nobody since this batch read it."""
        return row.state == "pending" and row.attempts == self._seen[row.id]

    def give_up(self, row: OutboxRow, reason: str) -> None:
        row.state = "failed"
        row.last_error = reason[:ANSWER_LENGTH]
        self._session.commit()

    def move(self, row: OutboxRow, window: SendWindow) -> None:
        row.send_after, row.send_before = window
        self._session.commit()

    def claim(self, row: OutboxRow, t: datetime, lease: timedelta) -> bool:
        """Count the attempt and hold the row until `t + lease`, committed before the gateway
        sees it: a crash after this is visible in the row, and the resend carries the same
        message id. The compare-and-set on `attempts` and the lease mean that of two
        dispatches running at once only one sends; a crashed one's lease runs out and the row
        is sent again (same id) by the next."""
        seen = self._seen[row.id]
        claimed = (
            self._session.connection()
            .execute(
                update(OutboxRow)
                .where(
                    col(OutboxRow.id) == row.id,
                    col(OutboxRow.state) == "pending",
                    col(OutboxRow.attempts) == seen,
                    or_(
                        col(OutboxRow.claimed_until).is_(None),
                        col(OutboxRow.claimed_until) <= t,
                    ),
                )
                .values(attempts=seen + 1, claimed_until=t + lease)
            )
            .rowcount
        )
        self._session.commit()
        return claimed == 1

    def _answered(self, row: OutboxRow, answer: str) -> None:
        row.gateway_answer = answer[:ANSWER_LENGTH]
        row.claimed_until = None

    def mark_sent(self, row: OutboxRow, answer: str, t: datetime) -> None:
        self._answered(row, answer)
        row.state = "sent"
        row.sent_at = t
        row.last_error = None
        self._session.commit()

    def mark_failed(self, row: OutboxRow, answer: str) -> None:
        self._answered(row, answer)
        row.state = "failed"
        row.last_error = answer[:ANSWER_LENGTH]
        self._session.commit()

    def mark_retry(self, row: OutboxRow, answer: str, window: SendWindow) -> None:
        """Pending again, to be tried in `window` (later in its own, or the next)."""
        self._answered(row, answer)
        row.last_error = answer[:ANSWER_LENGTH]
        row.send_after, row.send_before = window
        self._session.commit()

    def still_due(self) -> bool:
        n = self._session.exec(
            select(func.count()).select_from(OutboxRow).where(*_due(self._at))
        ).one()
        return n > 0

    def wake_instants(self) -> list[datetime]:
        """The next pending row's send_after, and the instant the first live claim runs out
        (a dispatch that died holding rows: come back when its hold ends)."""
        pending = self._session.exec(
            select(func.min(OutboxRow.send_after)).where(
                OutboxRow.state == "pending", col(OutboxRow.send_after) > self._at
            )
        ).one()
        lease = self._session.exec(
            select(func.min(OutboxRow.claimed_until)).where(
                OutboxRow.state == "pending", col(OutboxRow.claimed_until) > self._at
            )
        ).one()
        return [t for t in (_aware(pending), _aware(lease)) if t is not None]


@dataclass(frozen=True)
class OutboxPage:
    rows: list[OutboxRow]
    #: By state, over the same filters except the state.
    counts: dict[str, int]
    total: int
    undeliverable: list[UndeliverableRow]


class OutboxQueue:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        table = OutboxRow.__table__  # type: ignore[attr-defined]
        insert = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert
        # Built once and executed with each call's rows (executemany): a statement built around
        # the rows' values is compiled again at every call, most of an enqueue's cost
        # (bench/workflow_bench.py: three progress messages per application).
        self._insert: Executable = insert(table).on_conflict_do_nothing(
            index_elements=[table.c.application_no, table.c.monitor, table.c.level, table.c.phone]
        )
        # psycopg sends an executemany as one multi-row INSERT, whose rowcount is -1: there the
        # rows inserted are counted from what it returns.
        self._counts_returned = engine.dialect.name == "postgresql"
        if self._counts_returned:
            self._insert = self._insert.returning(table.c.id)

    # -- enqueue -------------------------------------------------------------------------------

    def candidate_staff(self, unit: str, customer_manager: str | None) -> list[StaffRow]:
        """The active staff a warning of `unit` may reach: those of the unit and its
        ancestors, and the customer manager the application names (any unit)."""
        where: ColumnElement[bool] = col(StaffRow.unit).in_(unit_chain(unit))
        if customer_manager:
            where = or_(where, col(StaffRow.code) == customer_manager)
        with Session(self._engine) as session:
            return list(
                session.exec(select(StaffRow).where(where, col(StaffRow.active).is_(True))).all()
            )

    def enqueue(
        self, rows: Sequence[OutboxBase], undeliverable: Sequence[UndeliverableRow] = ()
    ) -> int:
        """Insert the rows the outbox lacks and record the undeliverable roles not recorded
        yet, in one transaction; returns how many rows this call inserted (0 on a repeat)."""
        for _ in range(3):
            try:
                with Session(self._engine) as session:
                    inserted = self._insert_new(session, rows)
                    for missing in undeliverable:
                        # A copy per attempt: a failed attempt leaves its objects bound.
                        _add_missing(session, UndeliverableRow(**missing.model_dump()))
                    session.commit()
                return inserted
            except IntegrityError:
                # A concurrent enqueue of the same warning won the race: look again.
                continue
        raise RuntimeError("outbox insert kept colliding; the activity will be retried")

    def _insert_new(self, session: Session, rows: Sequence[OutboxBase]) -> int:
        """Insert the rows the outbox lacks, in one statement: the unique key (application,
        monitor, level, phone) decides, so a repeat or a concurrent enqueue inserts nothing."""
        if not rows:
            return 0
        result = session.execute(self._insert, [r.model_dump() for r in rows])
        if self._counts_returned:
            return len(result.all())
        # sqlite3's executemany rowcount is the sum of its rows'.
        return int(getattr(result, "rowcount", 0) or 0)

    # -- dispatch ------------------------------------------------------------------------------

    @contextmanager
    def due_batch(self, at: datetime, limit: int, windows: WindowFinder) -> Iterator[DueBatch]:
        """Move the rows whose window closed unsent to the next window (or the one open now),
        then read up to `limit` rows due at `at`, oldest window first."""
        with Session(self._engine) as session:
            rescheduled = self._reschedule_missed(session, at, windows)
            due = session.exec(
                select(OutboxRow)
                .where(*_due(at))
                .order_by(col(OutboxRow.send_after), col(OutboxRow.id))
                .limit(limit)
            ).all()
            yield DueBatch(session, at, list(due), limit, rescheduled)

    @staticmethod
    def _reschedule_missed(session: Session, at: datetime, windows: WindowFinder) -> int:
        """Rows whose window closed unsent (the dispatcher was down): never dropped, never
        sent outside a window."""
        missed = session.exec(
            select(OutboxRow).where(OutboxRow.state == "pending", col(OutboxRow.send_before) <= at)
        ).all()
        for row in missed:
            row.send_after, row.send_before = windows(row.unit, row.window, at, join_open=True)
        if missed:
            session.commit()
        return len(missed)

    def requeue_failed(
        self, now: datetime, windows: WindowFinder, application_no: str | None = None
    ) -> int:
        """Failed rows back to pending for the window open at `now` or the next one, attempts
        from zero (the last error stays). Same rows, same message ids: whatever did reach a
        phone before is dropped by the gateway as a duplicate."""
        with Session(self._engine) as session:
            query = select(OutboxRow).where(OutboxRow.state == "failed")
            if application_no is not None:
                query = query.where(OutboxRow.application_no == application_no)
            rows = session.exec(query).all()
            for row in rows:
                row.state = "pending"
                row.attempts = 0
                row.claimed_until = None
                row.send_after, row.send_before = windows(row.unit, row.window, now, join_open=True)
            session.commit()
        return len(rows)


def outbox_page(
    session: Session,
    *,
    unit: str | None = None,
    application: str | None = None,
    state: str | None = None,
    phone_suffix: str | None = None,
    monitor: str | None = None,
    level: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> OutboxPage:
    """Outbox rows by send window, with counts by state and the undeliverable roles (of the
    unit and those under it, and of the application, if named; at most 500)."""
    filters: list[ColumnElement[bool]] = []
    if unit is not None:
        filters.append(_in_unit(col(OutboxRow.unit), unit))
    if application is not None:
        filters.append(col(OutboxRow.application_no) == application)
    if phone_suffix is not None:
        filters.append(col(OutboxRow.phone).endswith(phone_suffix))
    if monitor is not None:
        filters.append(col(OutboxRow.monitor) == monitor)
    if level is not None:
        filters.append(col(OutboxRow.level) == level)
    counts = {"pending": 0, "sent": 0, "failed": 0}
    for st, n in session.exec(
        select(OutboxRow.state, func.count()).where(*filters).group_by(OutboxRow.state)
    ).all():
        counts[st] = n
    if state is not None:
        filters.append(col(OutboxRow.state) == state)
    total = session.exec(select(func.count()).select_from(OutboxRow).where(*filters)).one()
    rows = session.exec(
        select(OutboxRow)
        .where(*filters)
        .order_by(col(OutboxRow.send_after), col(OutboxRow.id))
        .offset(offset)
        .limit(limit)
    ).all()
    gaps = select(UndeliverableRow)
    if unit is not None:
        gaps = gaps.where(_in_unit(col(UndeliverableRow.unit), unit))
    if application is not None:
        gaps = gaps.where(UndeliverableRow.application_no == application)
    undeliverable = session.exec(
        gaps.order_by(col(UndeliverableRow.created_at), col(UndeliverableRow.id)).limit(500)
    ).all()
    return OutboxPage(list(rows), counts, total, list(undeliverable))


def _in_unit(column: Any, unit: str) -> ColumnElement[bool]:
    """`unit` and the units under it."""
    found: ColumnElement[bool] = (column == unit) | column.startswith(unit + "/")
    return found
