"""The reports' answers, as the API gives them in JSON and the console shows them; `tables`
flattens each into the tables its CSV and XLSX exports hold."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from domain.reports.common import Period, Share, Stats
from domain.reports.connection import ConnectionTimeRow, TargetResult
from domain.reports.lists import LIST_LABELS, ListItem
from domain.reports.penalties import PenaltyTableResult
from domain.reports.stages import StageTimeRow
from domain.reports.warnings import WarningCount, WarningTotals


class ReportScope(BaseModel):
    unit: str | None = Field(description="The unit and the units under it; null: every unit")
    date_from: date = Field(description="First day, in the unit's zone")
    date_to: date = Field(description="Last day (included)")
    timezone: str


class ConnectionTimeReport(ReportScope):
    period: Period
    rows: list[ConnectionTimeRow]
    targets: list[TargetResult]


class StageTimeReport(ReportScope):
    period: Period
    rows: list[StageTimeRow]


class WarningReport(ReportScope):
    items: list[WarningCount]
    totals: WarningTotals


class ListCounts(BaseModel):
    too_short: int = 0
    late_appointment: int = 0
    overlong_pending: int = 0


class ListsReport(ReportScope):
    as_of: datetime = Field(description="Over-one-year orders are those pending at this instant")
    counts: ListCounts
    items: list[ListItem]
    total: int
    offset: int
    limit: int


class PenaltyReport(ReportScope):
    tables: list[PenaltyTableResult] = Field(
        description="One per penalty table in force in the scope (units without one have none)"
    )


# -- export tables ----------------------------------------------------------------------------

Cell = str | int | float | bool | None


class Table(BaseModel):
    name: str = Field(description="Sheet name")
    columns: list[str]
    rows: list[list[Cell]]


def _stats(s: Stats) -> list[Cell]:
    return [s.mean, s.median, s.p90]


def _share(s: Share | None) -> list[Cell]:
    return [None, None, None] if s is None else [s.judged, s.within, s.share]


_STAT = ["mean", "median", "p90"]
_SHARE = ["judged", "within", "share"]


def _cols(prefix: str, names: list[str]) -> list[str]:
    return [f"{prefix}_{n}" for n in names]


def connection_tables(r: ConnectionTimeReport) -> list[Table]:
    main = Table(
        name="connection_time",
        columns=[
            "period",
            "business_type",
            "business_type_label",
            "voltage",
            "applications",
            *_cols("working_days", _STAT),
            *_cols("calendar_days", _STAT),
            "judged",
            *_cols("provincial", _SHARE),
            *_cols("national", _SHARE),
        ],
        rows=[
            [
                x.period,
                x.business_type,
                x.business_type_label,
                x.voltage,
                x.applications,
                *_stats(x.working_days),
                *_stats(x.calendar_days),
                x.judged,
                *_share(x.within_provincial),
                *_share(x.within_national),
            ]
            for x in r.rows
        ],
    )
    targets = Table(
        name="targets",
        columns=[
            "label",
            "year",
            "business_types",
            "voltages",
            "measure",
            "monitor",
            "unit",
            "average_max",
            "applications",
            "average",
            "met",
            "source",
        ],
        rows=[
            [
                t.label,
                t.year,
                " ".join(t.business_types),
                " ".join(t.voltages or []),
                t.measure,
                t.monitor,
                t.unit,
                t.average_max,
                t.applications,
                t.average,
                t.met,
                t.source,
            ]
            for t in r.targets
        ],
    )
    return [main, targets]


def stage_tables(r: StageTimeReport) -> list[Table]:
    return [
        Table(
            name="stage_times",
            columns=[
                "period",
                "stage",
                "stage_label",
                "monitor",
                "monitor_label",
                "applications",
                *_cols("counted", _STAT),
                "counted_unit",
                *_cols("working_days", _STAT),
                *_cols("calendar_days", _STAT),
                *_cols("provincial", _SHARE),
                *_cols("national", _SHARE),
            ],
            rows=[
                [
                    x.period,
                    x.stage,
                    x.stage_label,
                    x.monitor,
                    x.monitor_label,
                    x.applications,
                    *_stats(x.counted),
                    x.counted_unit,
                    *_stats(x.working_days),
                    *_stats(x.calendar_days),
                    *_share(x.within_provincial),
                    *_share(x.within_national),
                ]
                for x in r.rows
            ],
        )
    ]


def warning_tables(r: WarningReport) -> list[Table]:
    main = Table(
        name="warnings",
        columns=["level", "level_label", "unit", "stage", "stage_label", "raised", "open"],
        rows=[
            [w.level, w.level_label, w.unit, w.stage, w.stage_label, w.raised, w.open]
            for w in r.items
        ],
    )
    extra = [
        Table(
            name=f"by_{name}",
            columns=[name, "label", "raised", "open"],
            rows=[[t.key, t.label, t.raised, t.open] for t in totals],
        )
        for name, totals in (
            ("level", r.totals.by_level),
            ("unit", r.totals.by_unit),
            ("stage", r.totals.by_stage),
        )
    ]
    return [main, *extra]


def list_tables(r: ListsReport) -> list[Table]:
    return [
        Table(
            name="lists",
            columns=[
                "list",
                "list_label",
                "application_no",
                "unit",
                "business_type",
                "voltage",
                "stage",
                "state",
                "customer_manager",
                "at",
                "due_at",
                "detail",
            ],
            rows=[
                [
                    x.list,
                    LIST_LABELS[x.list],
                    x.application_no,
                    x.unit,
                    x.business_type,
                    x.voltage,
                    x.stage,
                    x.state,
                    x.customer_manager,
                    _iso(x.at),
                    _iso(x.due_at),
                    x.detail,
                ]
                for x in r.items
            ],
        )
    ]


def penalty_tables(r: PenaltyReport) -> list[Table]:
    lines = Table(
        name="penalties",
        columns=[
            "unit",
            "month",
            "no",
            "event",
            "label",
            "orders",
            "amount",
            "leadership",
            "rest",
            "currency",
            "application_nos",
            "source",
        ],
        rows=[
            [
                x.unit,
                x.month,
                x.no,
                x.event,
                x.label,
                x.orders,
                x.amount,
                x.leadership,
                x.rest,
                x.currency,
                " ".join(x.application_nos),
                t.source,
            ]
            for t in r.tables
            for x in t.lines
        ],
    )
    totals = Table(
        name="totals",
        columns=["unit", "month", "orders", "amount", "leadership", "rest", "currency"],
        rows=[
            [x.unit, x.month, x.orders, x.amount, x.leadership, x.rest, x.currency]
            for t in r.tables
            for x in t.totals
        ],
    )
    manual = Table(
        name="not_detected",
        columns=["no", "event", "label", "amount", "leadership", "rest"],
        rows=[
            [x.no, x.event, x.label, x.amount, x.leadership, x.rest]
            for t in r.tables
            for x in t.not_detected
        ],
    )
    return [lines, totals, manual]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def tables(report: BaseModel) -> list[Table]:
    if isinstance(report, ConnectionTimeReport):
        return connection_tables(report)
    if isinstance(report, StageTimeReport):
        return stage_tables(report)
    if isinstance(report, WarningReport):
        return warning_tables(report)
    if isinstance(report, ListsReport):
        return list_tables(report)
    if isinstance(report, PenaltyReport):
        return penalty_tables(report)
    raise TypeError(f"not a report: {type(report).__name__}")
