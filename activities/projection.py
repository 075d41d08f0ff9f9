"""Projection of workflow state into the database read model.

Idempotent by construction, in one transaction of three set-based statements:
- the application row is upserted only if the stored one is not newer (an older write arriving
  late never moves a row backwards);
- timeline entries are inserted by position, ignoring those already there;
- warnings are upserted by (application, monitor, level), the database's unique key.
So retries and replays never write twice. Plain SQL upserts instead of ORM loads: this runs
for every change of every application and contends for SQLite's single writer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Insert
from sqlalchemy.dialects import postgresql, sqlite
from temporalio import activity

from core.models import Application, TimelineRow, WarningRow
from workflows.models import ProjectionInput


class ProjectionActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")
        self._insert = sqlite.insert if dialect == "sqlite" else postgresql.insert

    @activity.defn
    def project_application(self, data: ProjectionInput) -> None:
        with self._engine.begin() as conn:
            conn.execute(self._application(data))
            if data.timeline:
                conn.execute(self._timeline(data))
            if data.warnings:
                conn.execute(self._warnings(data))

    def _application(self, data: ProjectionInput) -> Insert:
        p = data.profile
        values: dict[str, Any] = {
            "application_no": data.application_no,
            "unit": p.unit,
            "business_type": p.business_type,
            "voltage": p.voltage,
            "capacity_kva": p.capacity_kva,
            "state": data.state,
            "stage": data.stage,
            "customer_manager": data.customer_manager,
            "accepted_at": p.accepted_at,
            "updated_at": data.updated_at,
            "warning_level": data.warning_level,
            "next_due_at": data.next_due_at,
            "too_short": data.too_short,
            "provisional": data.provisional,
            "customer_name": data.customer.name,
            "customer_phone": data.customer.phone,
        }
        if data.final_status is not None:
            values["final_status"] = data.final_status.model_dump(mode="json")
        table = Application.__table__  # type: ignore[attr-defined]
        stmt = self._insert(table).values(**values)
        changed = {k: v for k, v in values.items() if k != "application_no"}
        return stmt.on_conflict_do_update(
            index_elements=[table.c.application_no],
            set_=changed,
            where=table.c.updated_at <= stmt.excluded.updated_at,
        )

    def _timeline(self, data: ProjectionInput) -> Insert:
        table = TimelineRow.__table__  # type: ignore[attr-defined]
        rows = [
            {
                "application_no": data.application_no,
                "seq": seq,
                "event": entry.event,
                "at": entry.at,
                "by": entry.by,
                "note": entry.note,
            }
            for seq, entry in enumerate(data.timeline, start=data.timeline_offset)
        ]
        return (
            self._insert(table)
            .values(rows)
            .on_conflict_do_nothing(index_elements=[table.c.application_no, table.c.seq])
        )

    def _warnings(self, data: ProjectionInput) -> Insert:
        table = WarningRow.__table__  # type: ignore[attr-defined]
        rows = [
            {
                "application_no": data.application_no,
                "monitor": w.monitor,
                "code": w.code,
                "level": w.level,
                "due_at": w.due_at,
                "raised_at": w.raised_at,
                "roles": w.roles,
                "result": w.result,
                "source": w.source,
                "open": w.open,
            }
            for w in data.warnings
        ]
        stmt = self._insert(table).values(rows)
        # Only whether it is open changes after a warning is raised.
        return stmt.on_conflict_do_update(
            index_elements=[table.c.application_no, table.c.monitor, table.c.level],
            set_={"open": stmt.excluded.open},
        )
