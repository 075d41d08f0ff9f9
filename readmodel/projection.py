"""The read model's one write of an application's state: the projection activity's
(activities/projection.py) and the reconciliation's (readmodel/reconcile.py).

Idempotent by construction, in one transaction of up to five statements:
- the application row is upserted only if the stored one is not newer (an older write arriving
  late never moves a row backwards);
- timeline entries are inserted by position, ignoring those already there;
- warnings are upserted by (application, monitor, level), the database's unique key;
- the report facts (readmodel/report_facts_writer.py), when the change connects or closes the
  application: instants that keep their maximum, a close written once.
So retries and replays never write twice, and a repair writes the reports' facts as well.

The statements are built once and executed with parameters (timeline and warnings as one
executemany): this runs for every change of every application, and building and compiling a
statement around literal values each time was most of its cost (bench/workflow_bench.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite

from contracts.application import ProjectionInput
from readmodel.applications import ApplicationRow, TimelineRow, WarningRow
from readmodel.report_facts_writer import ReportFacts

APPLICATION: Table = ApplicationRow.__table__  # type: ignore[attr-defined]
TIMELINE: Table = TimelineRow.__table__  # type: ignore[attr-defined]
WARNING: Table = WarningRow.__table__  # type: ignore[attr-defined]


class ProjectionWriter:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        dialect = engine.dialect.name
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        # Only the columns given are set on conflict: final_status is written once, at the
        # close, and must not be cleared by a later (or replayed) ordinary write.
        self._application = _upsert_application(insert(APPLICATION), final=False)
        self._application_final = _upsert_application(insert(APPLICATION), final=True)
        self._timeline = insert(TIMELINE).on_conflict_do_nothing(
            index_elements=[TIMELINE.c.application_no, TIMELINE.c.seq]
        )
        warning = insert(WARNING)
        # Only whether it is open changes after a warning is raised.
        self._warnings = warning.on_conflict_do_update(
            index_elements=[WARNING.c.application_no, WARNING.c.monitor, WARNING.c.level],
            set_={"open": warning.excluded.open},
        )
        self._facts = ReportFacts(dialect)

    def write(self, data: ProjectionInput) -> None:
        with self._engine.begin() as conn:
            self.write_in(conn, [data])

    def write_in(self, conn: Connection, items: Sequence[ProjectionInput]) -> None:
        """Many applications' writes in the caller's transaction, each statement executed
        once for all of them (an import's batch)."""
        for final in (False, True):
            rows = [_application_row(d) for d in items if (d.final_status is not None) == final]
            if rows:
                conn.execute(self._application_final if final else self._application, rows)
        timeline = [r for d in items for r in _timeline_rows(d)]
        if timeline:
            conn.execute(self._timeline, timeline)
        warnings = [r for d in items for r in _warning_rows(d)]
        if warnings:
            conn.execute(self._warnings, warnings)
        for data in items:
            self._facts.write(conn, data)


def _upsert_application(stmt: Insert, final: bool) -> Insert:
    table = APPLICATION
    changed = [c.name for c in table.columns if c.name != "application_no"]
    if not final:
        changed.remove("final_status")
    return stmt.on_conflict_do_update(  # type: ignore[attr-defined,no-any-return]
        index_elements=[table.c.application_no],
        set_={name: stmt.excluded[name] for name in changed},  # type: ignore[attr-defined]
        where=table.c.updated_at <= stmt.excluded.updated_at,  # type: ignore[attr-defined]
    )


def _application_row(data: ProjectionInput) -> dict[str, Any]:
    p = data.profile
    row: dict[str, Any] = {
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
        row["final_status"] = data.final_status.model_dump(mode="json")
    return row


def _timeline_rows(data: ProjectionInput) -> list[dict[str, Any]]:
    return [
        {
            "application_no": data.application_no,
            "seq": seq,
            "event": entry.event,
            "at": entry.at,
            "by": entry.by,
            "note": entry.note,
            "origin": entry.origin,
        }
        for seq, entry in enumerate(data.timeline, start=data.timeline_offset)
    ]


def _warning_rows(data: ProjectionInput) -> list[dict[str, Any]]:
    return [
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
            "imported": w.imported,
        }
        for w in data.warnings
    ]
