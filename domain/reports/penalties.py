"""A unit's penalty table (Huangchuan 002 附件2) applied to what the system recorded, per unit
and month: for each row it can detect, the orders (工单) that incurred it, the amount, and how
the amount is split (the unit's leadership, the rest).

An order counts once per row, in the month it first qualified:
- `overdue_or_too_short` (超期、超短工单): its first warning of the row's levels (a limit
  passed; warnings of rules another row counts are left to that row), or its first too-short
  flag when its business type is listed;
- `late_appointment` (预约确认超期): its appointment confirmed after the deadline (lists);
- `monitor_warning` (超长结存): the first warning of the row's rule.
Events before the table's `effective_from` are not fined. Rows the system cannot detect
(complaints, exams, outages, ...) are listed with their amounts, for manual entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from domain.reports.common import Policies, group_by, midnight, period_keys
from policies.report_tables import PenaltyRow, PenaltyTable

#: (application_no, unit, first qualifying instant as epoch seconds)
Event = tuple[str, str, float]


class PenaltyLine(BaseModel):
    unit: str
    month: str
    no: str = Field(description="The row of the table (二.3)")
    event: str
    label: str
    orders: int
    amount: float
    leadership: float | None
    rest: float | None
    currency: str
    application_nos: list[str]


class PenaltyTotal(BaseModel):
    unit: str
    month: str
    orders: int
    amount: float
    leadership: float
    rest: float
    currency: str


class UndetectedRow(BaseModel):
    no: str
    event: str
    label: str
    amount: float | None
    leadership: float | None
    rest: float | None


class PenaltyTableResult(BaseModel):
    source: str
    currency: str
    effective_from: str | None
    units: list[str]
    lines: list[PenaltyLine]
    totals: list[PenaltyTotal]
    not_detected: list[UndetectedRow]


def first_events(*sources: Iterable[tuple[Any, ...]]) -> list[Event]:
    """Each application's earliest instant over rows of (application_no, unit, ..., epoch)."""
    first: dict[str, Event] = {}
    for rows in sources:
        for row in rows:
            no, unit, at = str(row[0]), str(row[1]), float(row[-1])
            if no not in first or at < first[no][2]:
                first[no] = (no, unit, at)
    return list(first.values())


def penalty_result(
    table: PenaltyTable,
    units: Sequence[str],
    events: Mapping[str, Sequence[Event]],
    policies: Policies,
    start: datetime,
    end: datetime,
) -> PenaltyTableResult:
    """`events`: per detected row number, the orders' first qualifying instants (any time);
    only those of `units` in [start, end) and on or after the table's effective date count."""
    wanted = set(units)
    lines: list[PenaltyLine] = []
    for row in table.detected:
        kept = [
            e
            for e in events.get(row.no, ())
            if e[1] in wanted and _counts(e, table, policies, start, end)
        ]
        lines.extend(_lines(row, table, kept, policies))
    lines.sort(key=lambda x: (x.unit, x.month, x.no))
    return PenaltyTableResult(
        source=table.source.cite(),
        currency=table.currency,
        effective_from=table.effective_from.isoformat() if table.effective_from else None,
        units=sorted(wanted),
        lines=lines,
        totals=_totals(lines, table.currency),
        not_detected=[
            UndetectedRow(
                no=r.no,
                event=r.event,
                label=r.label,
                amount=r.amount,
                leadership=r.leadership,
                rest=r.rest,
            )
            for r in table.rows
            if r.detect is None
        ],
    )


def _counts(
    e: Event, table: PenaltyTable, policies: Policies, start: datetime, end: datetime
) -> bool:
    if not start.timestamp() <= e[2] < end.timestamp():
        return False
    if table.effective_from is None:
        return True
    return e[2] >= midnight(policies.calendar(e[1]), table.effective_from).timestamp()


def _lines(
    row: PenaltyRow, table: PenaltyTable, events: list[Event], policies: Policies
) -> list[PenaltyLine]:
    out = []
    for unit, in_unit in group_by(events, lambda e: e[1]).items():
        cal = policies.calendar(str(unit))
        months = period_keys(cal, np.asarray([e[2] for e in in_unit]), "month")
        by_month = group_by(zip(months, in_unit, strict=True), lambda m: m[0])
        for month, members in by_month.items():
            n = len(members)
            out.append(
                PenaltyLine(
                    unit=str(unit),
                    month=str(month),
                    no=row.no,
                    event=row.event,
                    label=row.label,
                    orders=n,
                    amount=n * (row.amount or 0.0),
                    leadership=None if row.leadership is None else n * row.leadership,
                    rest=None if row.rest is None else n * row.rest,
                    currency=table.currency,
                    application_nos=sorted(e[0] for _, e in members),
                )
            )
    return out


def _totals(lines: list[PenaltyLine], currency: str) -> list[PenaltyTotal]:
    out = []
    for (unit, month), members in sorted(group_by(lines, lambda x: (x.unit, x.month)).items()):
        out.append(
            PenaltyTotal(
                unit=unit,
                month=month,
                orders=sum(x.orders for x in members),
                amount=sum(x.amount for x in members),
                leadership=sum(x.leadership or 0.0 for x in members),
                rest=sum(x.rest or 0.0 for x in members),
                currency=currency,
            )
        )
    return out
