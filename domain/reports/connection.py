"""Connection time (接电时间): from acceptance to connection, per business class and period,
against the whole-process limits and the units' targets.

- The connection is the last energisation (送电; grid_connect for distributed generation) or,
  without one, the last meter installation (low voltage: 装表 is 送电).
- Working days: the working time between the two instants on the unit's calendar (holds
  included), in working days of its clock; calendar days: the plain time, in days of 24 h.
- Within the limits: an application kept its provincial (national) limits when each of its
  whole-process monitors with such a limit stopped by its due instant, as the workflow judged
  at the close (report facts); applications not closed yet are not judged.
- Targets: `[params.connection_time_targets]` of each application's unit, per year of
  connection: the average of the row's measure over the applications of its class.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field

from domain.reports.common import (
    DAY_S,
    Floats,
    Period,
    Policies,
    Share,
    Stats,
    groups,
    per_calendar,
    period_codes,
    period_label,
    share_of,
    stats,
    unit_seconds,
    unpack,
    working_days,
)
from policies import labels
from policies.report_tables import ConnectionTimeTargets, TargetRow, connection_time_targets

#: A row of readmodel.report_queries.connection_groups.
GroupRow = tuple[Any, ...]
#: A row of readmodel.report_queries.monitor_amounts.
AmountRow = tuple[Any, ...]


class ConnectionTimeRow(BaseModel):
    period: str = Field(description="2026-03, 2026-Q1, 2026 or all")
    business_type: str
    business_type_label: str
    voltage: str | None
    applications: int
    working_days: Stats
    calendar_days: Stats
    judged: int = Field(description="Applications whose whole-process outcome is recorded")
    within_provincial: Share | None
    within_national: Share | None


class TargetResult(BaseModel):
    label: str
    year: int
    business_types: list[str]
    voltages: list[str] | None
    measure: str
    monitor: str | None
    unit: str = Field(description="day or workday")
    average_max: float
    applications: int
    average: float | None
    met: bool | None = Field(description="average <= average_max; null without applications")
    source: str = Field(description="The clause the target comes from")


class Connected:
    """The connected applications as columns (group after group, as the database grouped
    them), with their measures."""

    def __init__(self, groups_: Sequence[GroupRow], policies: Policies, period: Period) -> None:
        self.period = period
        codes, values, lists = unpack(groups_, 3)
        if not groups_:
            codes, lists = [np.zeros(0, np.int64)] * 3, [np.zeros(0, np.int64)] * 5
            values = [[], [], []]
        self.unit_codes, self.type_codes, self.voltage_codes = codes
        self.units, self.types, self.voltages = values
        accepted, self.connected = lists[0].astype(np.float64), lists[1].astype(np.float64)
        self.provincial = lists[2].astype(np.int8)
        self.national = lists[3].astype(np.int8)
        self.judged = lists[4] > 0
        self.calendar_days = (self.connected - accepted) / DAY_S
        n = self.connected.size
        self.working_days = np.zeros(n)
        self.periods = np.zeros(n, dtype=np.int64)
        self.years = np.zeros(n, dtype=np.int64)
        for cal, at in per_calendar(policies, self.unit_codes, self.units):
            self.working_days[at] = working_days(cal, accepted[at], self.connected[at])
            self.periods[at] = period_codes(cal, self.connected[at], period)
            self.years[at] = period_codes(cal, self.connected[at], "year")

    def __len__(self) -> int:
        return int(self.connected.size)


def connection_time_rows(data: Connected) -> list[ConnectionTimeRow]:
    out = []
    for (period, kind, voltage), at in groups(data.periods, data.type_codes, data.voltage_codes):
        business_type = str(data.types[kind])
        out.append(
            ConnectionTimeRow(
                period=period_label(period, data.period),
                business_type=business_type,
                business_type_label=labels.BUSINESS_TYPES.get(business_type) or business_type,
                voltage=data.voltages[voltage],  # type: ignore[arg-type]
                applications=int(at.size),
                working_days=stats(data.working_days[at]),
                calendar_days=stats(data.calendar_days[at]),
                judged=int(data.judged[at].sum()),
                within_provincial=share_of(data.provincial[at]),
                within_national=share_of(data.national[at]),
            )
        )
    return sorted(out, key=lambda r: (r.period, r.business_type, r.voltage or ""))


def target_monitors(policies: Policies, units: Sequence[Hashable]) -> list[str]:
    """The rules whose counted time some target of these units averages."""
    found: set[str] = set()
    for unit in units:
        table = connection_time_targets(policies.policy(str(unit)))
        found |= {r.monitor for r in table.rows if r.monitor} if table else set()
    return sorted(found)


def target_results(
    data: Connected, amounts: Sequence[AmountRow], policies: Policies
) -> list[TargetResult]:
    """Each target in force for the applications connected, per year of connection, over the
    applications whose unit's pack states it."""
    by_table: dict[str, tuple[ConnectionTimeTargets, list[int]]] = {}
    for code, unit in enumerate(data.units):
        table = connection_time_targets(policies.policy(str(unit)))
        if table is not None:
            by_table.setdefault(table.model_dump_json(), (table, []))[1].append(code)
    counted = Counted(amounts, policies)
    out: list[TargetResult] = []
    for table, unit_codes in by_table.values():
        mine = np.isin(data.unit_codes, unit_codes)
        units = {str(data.units[c]) for c in unit_codes}
        for year in np.unique(data.years[mine]).tolist():
            in_year = mine & (data.years == year)
            for row in table.rows_for(year):
                if row.measure == "monitor":
                    values = counted.values(row, units, year)
                else:
                    members = in_year & _in_class(row, data)
                    source = data.working_days if table.unit == "workday" else data.calendar_days
                    values = source[members]
                out.append(_result(row, table, year, values))
    return out


def _in_class(row: TargetRow, data: Connected) -> npt.NDArray[np.bool_]:
    kinds = [i for i, t in enumerate(data.types) if t in row.business_types]
    match = np.isin(data.type_codes, kinds)
    if row.voltages is not None:
        volts = [i for i, v in enumerate(data.voltages) if v in row.voltages]
        match &= np.isin(data.voltage_codes, volts)
    return match


class Counted:
    """The time whole-process rules counted for the connected applications (targets whose
    measure is a rule's: the grid's part of a connection), in the units of their limits."""

    def __init__(self, rows: Sequence[AmountRow], policies: Policies) -> None:
        self.rows: list[tuple[str, str, str | None, int, str, float]] = []
        for unit, business_type, voltage, connected, monitor, elapsed, unit_name in rows:
            cal = policies.calendar(unit)
            year = int(period_codes(cal, np.asarray([float(connected)]), "year")[0])
            amount = float(elapsed) / unit_seconds(unit_name, cal)
            self.rows.append((unit, business_type, voltage, year, monitor, amount))

    def values(self, row: TargetRow, units: set[str], year: int) -> Floats:
        return np.asarray(
            [
                amount
                for unit, business_type, voltage, y, monitor, amount in self.rows
                if monitor == row.monitor
                and unit in units
                and y == year
                and business_type in row.business_types
                and (row.voltages is None or voltage in row.voltages)
            ],
            dtype=np.float64,
        )


def _result(
    row: TargetRow, table: ConnectionTimeTargets, year: int, values: Floats
) -> TargetResult:
    average = stats(values).mean
    return TargetResult(
        label=row.label,
        year=year,
        business_types=row.business_types,
        voltages=row.voltages,
        measure=row.measure,
        monitor=row.monitor,
        unit=table.unit,
        average_max=row.average_max,
        applications=int(values.size),
        average=average,
        met=None if average is None else average <= row.average_max,
        source=table.source.cite(),
    )
