"""Counts over the read model for the API's /metrics, computed when Prometheus scrapes: a few
GROUP BY queries on indexed columns, never a workflow query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlmodel import col

from readmodel.applications import ApplicationRow
from readmodel.outbox import OutboxRow, UndeliverableRow


@dataclass(frozen=True)
class OutboxStats:
    by_state: dict[str, int]
    #: Pending rows whose send window has opened: what the dispatcher has yet to send.
    due: int
    #: Seconds since the oldest due row's window opened (0 when none is due).
    oldest_due_s: float
    undeliverable: int


def applications_by_state_and_level(engine: Engine) -> dict[tuple[str, str], int]:
    """(state, highest open warning level or "") → applications."""
    level = func.coalesce(col(ApplicationRow.warning_level), "")
    query = select(col(ApplicationRow.state), level, func.count()).group_by(
        col(ApplicationRow.state), level
    )
    with engine.connect() as conn:
        return {(state, lvl): n for state, lvl, n in conn.execute(query)}


def outbox_stats(engine: Engine, now: datetime | None = None) -> OutboxStats:
    now = now or datetime.now(UTC)
    due = (col(OutboxRow.state) == "pending", col(OutboxRow.send_after) <= now)
    with engine.connect() as conn:
        by_state = dict(
            conn.execute(
                select(col(OutboxRow.state), func.count()).group_by(col(OutboxRow.state))
            ).all()
        )
        n_due, oldest = conn.execute(
            select(func.count(), func.min(col(OutboxRow.send_after))).where(*due)
        ).one()
        undeliverable = conn.execute(select(func.count()).select_from(UndeliverableRow)).scalar()
    if oldest is not None and oldest.tzinfo is None:
        # Aggregates bypass the column type: SQLite hands back a naive UTC instant.
        oldest = oldest.replace(tzinfo=UTC)
    return OutboxStats(
        by_state={str(k): int(v) for k, v in by_state.items()},
        due=int(n_due),
        oldest_due_s=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        undeliverable=int(undeliverable or 0),
    )
