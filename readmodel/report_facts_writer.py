"""Writing the report facts (readmodel.report_facts) from what the projection receives: the
connection instants from the timeline entries of each change, the verdicts and monitor
outcomes from the final status at the close. Part of the projection's one transaction
(readmodel.projection), so a reconciliation's repair writes them too."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Insert, Table, case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from contracts.application import ApplicationStatus, ProjectionInput, TimelineEntry
from readmodel.applications import ApplicationRow
from readmodel.report_facts import FULL_PROCESS, ReportApplicationRow, ReportMonitorRow

FACTS: Table = ReportApplicationRow.__table__  # type: ignore[attr-defined]
MONITORS: Table = ReportMonitorRow.__table__  # type: ignore[attr-defined]
APPLICATION: Table = ApplicationRow.__table__  # type: ignore[attr-defined]

#: The connection: the last energisation (grid_connect is its distributed-generation alias)
#: or, without one, the last meter installation (low voltage: 装表 is 送电).
ENERGIZED = frozenset({"energize.completed", "grid_connect.completed"})
INSTALLED = "meter_install.completed"


def _later(old: Any, new: Any) -> ColumnElement[Any]:
    """The later of two instants, either of which may be missing."""
    return case((old.is_(None), new), (new.is_(None), old), (old > new, old), else_=new)


class ReportFacts:
    """The two statements, built once per engine (they run on every change)."""

    def __init__(self, dialect: str) -> None:
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        stmt = insert(FACTS)
        new, old = stmt.excluded, FACTS.c
        energized = _later(old.energized_s, new.energized_s)
        installed = _later(old.installed_s, new.installed_s)
        closing = new.state.is_not(None)
        self.application: Insert = stmt.on_conflict_do_update(
            index_elements=[FACTS.c.application_no],
            set_={
                "unit": new.unit,
                "business_type": new.business_type,
                "voltage": new.voltage,
                "accepted_s": new.accepted_s,
                "energized_s": energized,
                "installed_s": installed,
                "connected_s": func.coalesce(energized, installed),
                "state": func.coalesce(new.state, old.state),
                "closed_s": func.coalesce(new.closed_s, old.closed_s),
                **{
                    name: case((closing, new[name]), else_=old[name])
                    for name in ("kept_provincial", "kept_national", "full_process_judged")
                },
            },
        )
        self.monitors: Insert = insert(MONITORS).on_conflict_do_nothing(
            index_elements=[MONITORS.c.application_no, MONITORS.c.monitor]
        )

    def write(self, conn: Connection, data: ProjectionInput) -> None:
        final = data.final_status
        entries = final.timeline if final is not None else data.timeline
        row = application_facts(data, entries)
        if row is None:
            return
        conn.execute(self.application, row)
        monitors = monitor_facts(final, data) if final is not None else []
        if monitors:
            conn.execute(self.monitors, monitors)


def seconds(at: datetime) -> int:
    """An instant as whole seconds since 1970-01-01 UTC (the facts' resolution)."""
    return math.floor(at.timestamp())


def _s(at: datetime | None) -> int | None:
    return seconds(at) if at is not None else None


def _latest(entries: Iterable[TimelineEntry], names: frozenset[str]) -> int | None:
    found = [e.at for e in entries if e.event in names]
    return seconds(max(found)) if found else None


def application_facts(data: ProjectionInput, entries: list[TimelineEntry]) -> dict[str, Any] | None:
    """The report_application row this change writes, or None when it changes nothing there
    (no connection in its entries, not the close)."""
    energized = _latest(entries, ENERGIZED)
    installed = _latest(entries, frozenset({INSTALLED}))
    final = data.final_status
    if energized is None and installed is None and final is None:
        return None
    p = data.profile
    row: dict[str, Any] = {
        "application_no": data.application_no,
        "unit": p.unit,
        "business_type": p.business_type,
        "voltage": p.voltage,
        "accepted_s": seconds(p.accepted_at),
        "energized_s": energized,
        "installed_s": installed,
        "connected_s": energized if energized is not None else installed,
        "state": None,
        "closed_s": None,
        "kept_provincial": None,
        "kept_national": None,
        "full_process_judged": None,
    }
    if final is not None:
        whole = [m for m in final.monitors if m.code == FULL_PROCESS and m.stopped_at is not None]
        row.update(
            state=final.state,
            closed_s=seconds(data.updated_at),
            kept_provincial=_all_kept((m.stopped_at, m.provincial_due_at) for m in whole),
            kept_national=_all_kept((m.stopped_at, m.national_due_at) for m in whole),
            full_process_judged=len(whole),
        )
    return row


def _kept(stopped: datetime | None, due: datetime | None) -> int | None:
    if stopped is None or due is None:
        return None
    return int(stopped <= due)


def _all_kept(pairs: Iterable[tuple[datetime | None, datetime | None]]) -> int | None:
    verdicts = [v for v in (_kept(s, d) for s, d in pairs) if v is not None]
    return min(verdicts) if verdicts else None


def monitor_facts(status: ApplicationStatus, data: ProjectionInput) -> list[dict[str, Any]]:
    """The report_monitor rows of a final status: one per monitor that started."""
    p = data.profile
    return [
        {
            "application_no": status.application_no,
            "unit": p.unit,
            "business_type": p.business_type,
            "voltage": p.voltage,
            "monitor": m.id,
            "code": m.code,
            "state": m.state,
            "started_s": seconds(m.started_at),
            "stopped_s": _s(m.stopped_at),
            "elapsed_s": round(m.elapsed.seconds) if m.elapsed else None,
            "elapsed_unit": m.elapsed.unit if m.elapsed else None,
            "kept_provincial": _kept(m.stopped_at, m.provincial_due_at),
            "kept_national": _kept(m.stopped_at, m.national_due_at),
        }
        for m in status.monitors
        if m.started_at is not None
    ]


def backfill(engine: Engine) -> int:
    """Write the facts of applications closed before the tables existed, from their stored
    final status; returns how many it wrote. Running it again writes nothing new."""
    from contracts.application import Customer

    facts = ReportFacts(engine.dialect.name)
    missing = select(APPLICATION).where(
        APPLICATION.c.final_status.is_not(None),
        APPLICATION.c.application_no.not_in(
            select(FACTS.c.application_no).where(FACTS.c.state.is_not(None))
        ),
    )
    written = 0
    with engine.begin() as conn:
        for r in conn.execute(missing).mappings().all():
            status = ApplicationStatus.model_validate(r["final_status"])
            data = ProjectionInput(
                application_no=r["application_no"],
                profile=status.profile,
                customer=Customer(name="-"),
                customer_manager=r["customer_manager"],
                state=status.state,
                stage=status.stage,
                updated_at=r["updated_at"],
                final_status=status,
            )
            facts.write(conn, data)
            written += 1
    return written
