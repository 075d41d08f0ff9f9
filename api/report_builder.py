"""The reports, built from the read model: the queries (readmodel.report_queries) answer rows,
the pure computations (domain.reports) turn them into answers. The API routes and the console
both call these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from api.report_context import PackPolicies
from domain.reports import connection as ct
from domain.reports import lists as ls
from domain.reports import penalties as pn
from domain.reports.common import Period, Policies, span
from domain.reports.models import (
    ConnectionTimeReport,
    ListCounts,
    ListsReport,
    PenaltyReport,
    StageTimeReport,
    WarningReport,
)
from domain.reports.stages import stage_time_rows
from domain.reports.warnings import warning_counts, warning_totals
from policies.loader import ROOT_UNIT
from policies.report_tables import PenaltyTable, penalty_table
from readmodel import report_queries as q


@dataclass(frozen=True)
class Scope:
    unit: str | None
    date_from: date
    date_to: date
    start: datetime
    end: datetime
    timezone: str

    def header(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "timezone": self.timezone,
        }


def scope(policies: Policies, unit: str | None, date_from: date, date_to: date) -> Scope:
    """The days from `date_from` to `date_to` (both included) in the zone of `unit`."""
    cal = policies.calendar(unit or ROOT_UNIT)
    start, end = span(cal, date_from, date_to)
    return Scope(
        unit, date_from, date_to, start, end, policies.policy(unit or ROOT_UNIT).settings.timezone
    )


def connection_time(
    conn: Connection, policies: Policies, s: Scope, period: Period
) -> ConnectionTimeReport:
    data = ct.Connected(q.connection_groups(conn, s.unit, s.start, s.end), policies, period)
    monitors = ct.target_monitors(policies, data.units)
    amounts = q.monitor_amounts(conn, s.unit, s.start, s.end, monitors)
    return ConnectionTimeReport(
        **s.header(),
        period=period,
        rows=ct.connection_time_rows(data),
        targets=ct.target_results(data, amounts, policies),
    )


def stage_times(conn: Connection, policies: Policies, s: Scope, period: Period) -> StageTimeReport:
    rows = q.stage_groups(conn, s.unit, s.start, s.end)
    return StageTimeReport(
        **s.header(), period=period, rows=stage_time_rows(rows, policies, period)
    )


def warnings(conn: Connection, s: Scope) -> WarningReport:
    items = warning_counts(q.warning_counts(conn, s.unit, s.start, s.end))
    return WarningReport(**s.header(), items=items, totals=warning_totals(items))


def lists(
    conn: Connection,
    policies: Policies,
    s: Scope,
    now: datetime,
    kinds: list[ls.ListKind],
    offset: int,
    limit: int,
) -> ListsReport:
    as_of = min(s.end, now)
    found: dict[str, list[ls.Entry]] = {}
    if "too_short" in kinds:
        found["too_short"] = ls.too_short_entries(q.too_short_entries(conn, s.unit, s.start, s.end))
    if "late_appointment" in kinds:
        rows = q.appointments(conn, s.unit, s.start, s.end, ls.APPOINTMENT)
        found["late_appointment"] = ls.late_appointment_entries(rows, policies)
    if "overlong_pending" in kinds:
        rows = q.pending_at(conn, s.unit, as_of, as_of - ls.ONE_YEAR)
        found["overlong_pending"] = ls.overlong_entries(rows, as_of)
    entries = [e for kind in kinds for e in found.get(kind, [])]
    return ListsReport(
        **s.header(),
        as_of=as_of.astimezone(s.start.tzinfo),
        counts=ListCounts(**{k: len(v) for k, v in found.items()}),
        items=_items(conn, policies, entries[offset : offset + limit]),
        total=len(entries),
        offset=offset,
        limit=limit,
    )


def _items(conn: Connection, policies: Policies, page: list[ls.Entry]) -> list[ls.ListItem]:
    apps = q.listed(conn, [e.application_no for e in page])
    return [e.item(apps.get(e.application_no), policies) for e in page]


def penalties(conn: Connection, policies: Policies, s: Scope) -> PenaltyReport:
    tables: dict[str, tuple[PenaltyTable, list[str]]] = {}
    for unit in q.units_in_scope(conn, s.unit):
        table = penalty_table(policies.policy(unit))
        if table is not None:
            tables.setdefault(table.model_dump_json(), (table, []))[1].append(unit)
    results = []
    for table, units in tables.values():
        events = {
            row.no: _events(conn, policies, s, table, row.no, units) for row in table.detected
        }
        results.append(pn.penalty_result(table, units, events, policies, s.start, s.end))
    return PenaltyReport(**s.header(), tables=results)


def _events(
    conn: Connection,
    policies: Policies,
    s: Scope,
    table: PenaltyTable,
    no: str,
    units: list[str],
) -> list[pn.Event]:
    """The orders' first qualifying instants for a detected row, among `units` (those whose
    pack has the table)."""
    row = next(r for r in table.detected if r.no == no)
    if row.detect == "late_appointment":
        assert row.stage is not None
        found = q.appointments(conn, s.unit, s.start, s.end, row.stage, units)
        late = ls.late_appointment_entries(found, policies)
        return [(e.application_no, e.unit, e.at) for e in late]
    if row.detect == "monitor_warning":
        assert row.monitor is not None
        return pn.first_events(
            q.first_warnings(conn, s.unit, s.end, monitors=[row.monitor], units=units)
        )
    others = [r for r in table.detected if r is not row]
    warned = q.first_warnings(
        conn,
        s.unit,
        s.end,
        levels=row.levels,
        not_monitors=[r.monitor for r in others if r.monitor],
        not_codes=[r.stage for r in others if r.stage],
        units=units,
    )
    short = (
        q.first_too_short(conn, s.unit, s.end, row.too_short_business_types, units)
        if row.too_short_business_types
        else []
    )
    return pn.first_events(warned, short)


def policies() -> PackPolicies:
    return PackPolicies()


def utc_now() -> datetime:
    return datetime.now(UTC)
