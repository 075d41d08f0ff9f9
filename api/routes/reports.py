"""Reports for managers (docs/reports.md): connection time against the limits and targets,
stage times, warnings, the lists to act on and the penalty table, for a unit and the units
under it over a range of days; as JSON, CSV (the main table) or XLSX (every table)."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BeforeValidator

from api import report_builder as rb
from api.auth import UnitScope, require
from api.deps import EngineDep
from api.problems import problems
from api.report_context import PackPolicies
from api.report_export import EXPORT_CONTENT, Format, export
from api.schemas import PageLimit, PageOffset
from api.validation import invalid_field
from domain.reports.common import Period
from domain.reports.lists import ListKind
from domain.reports.models import (
    ConnectionTimeReport,
    ListsReport,
    PenaltyReport,
    StageTimeReport,
    WarningReport,
)
from policies.loader import ROOT_UNIT, PolicyError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/reports", tags=["reports"], dependencies=[require("reports.read")])

#: Days outside this range hold no applications: a range reaching beyond is cut to it.
FIRST_DAY, LAST_DAY = date(1970, 1, 2), date(2199, 12, 31)
#: Exports hold every item of a list (pages are for JSON), up to this many.
EXPORT_MAX_ITEMS = 100_000

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day(value: object) -> object:
    """A day is written YYYY-MM-DD: not a number, not an instant (pydantic would read both)."""
    if isinstance(value, str) and not _DAY.match(value):
        raise ValueError("must be a day written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_day)]
FromQuery = Annotated[
    Day | None, Query(alias="from", description="First day (default: the month's first)")
]
ToQuery = Annotated[
    Day | None, Query(alias="to", description="Last day, included (default: today)")
]
FormatQuery = Annotated[Format, Query(description="json, csv (main table) or xlsx (every table)")]
PeriodQuery = Annotated[Period, Query(description="Rows per month, quarter, year or in total")]
REPORT_PROBLEMS = {200: {"content": EXPORT_CONTENT}, **problems(422, 503)}


def _scope(
    unit: str | None, first: date | None, last: date | None
) -> tuple[PackPolicies, rb.Scope]:
    policies = rb.policies()
    try:
        tz = policies.calendar(unit or ROOT_UNIT).zone
    except PolicyError as exc:
        log.error("policy pack for %s is invalid: %s", unit, exc)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={"type": "unavailable", "reason": f"the policy of unit {unit} is invalid"},
        ) from exc
    today = rb.utc_now().astimezone(tz).date()
    last = last or today
    first = first or last.replace(day=1)
    if last < first:
        raise invalid_field("to", "must not be before from")
    first, last = max(first, FIRST_DAY), min(last, LAST_DAY)
    last = max(last, first - timedelta(days=1))
    return policies, rb.scope(policies, unit, first, last)


@router.get("/connection-time", response_model=ConnectionTimeReport, responses=REPORT_PROBLEMS)
def connection_time(
    engine: EngineDep,
    unit: UnitScope,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    period: PeriodQuery = "month",
    format: FormatQuery = "json",
) -> Any:
    """Acceptance to connection per business class and period: average, median and P90 in
    working and calendar days, the share within the provincial and national whole-process
    limits, and the units' targets."""
    policies, s = _scope(unit, date_from, date_to)
    with engine.connect() as conn:
        report = rb.connection_time(conn, policies, s, period)
    return export(report, format, "connection-time")


@router.get("/stage-times", response_model=StageTimeReport, responses=REPORT_PROBLEMS)
def stage_times(
    engine: EngineDep,
    unit: UnitScope,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    period: PeriodQuery = "month",
    format: FormatQuery = "json",
) -> Any:
    """Where the time goes, stage by stage, as each stage's rules timed it."""
    policies, s = _scope(unit, date_from, date_to)
    with engine.connect() as conn:
        report = rb.stage_times(conn, policies, s, period)
    return export(report, format, "stage-times")


@router.get("/warnings", response_model=WarningReport, responses=REPORT_PROBLEMS)
def warnings(
    engine: EngineDep,
    unit: UnitScope,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    format: FormatQuery = "json",
) -> Any:
    """Warnings raised in the range by level, unit and stage, and how many are still open."""
    _, s = _scope(unit, date_from, date_to)
    with engine.connect() as conn:
        report = rb.warnings(conn, s)
    return export(report, format, "warnings")


@router.get("/lists", response_model=ListsReport, responses=REPORT_PROBLEMS)
def lists(
    engine: EngineDep,
    unit: UnitScope,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    kind: Annotated[
        list[ListKind] | None,
        Query(alias="list", max_length=3, description="Which lists (all three when absent)"),
    ] = None,
    offset: PageOffset = 0,
    limit: PageLimit = 100,
    format: FormatQuery = "json",
) -> Any:
    """Too-short orders to check on site (现场核查), appointments confirmed late, and orders
    pending for over a year (超长结存). Pages apply to JSON; exports hold every item."""
    policies, s = _scope(unit, date_from, date_to)
    kinds: list[ListKind] = list(
        dict.fromkeys(kind or ["too_short", "late_appointment", "overlong_pending"])
    )
    if format != "json":
        offset, limit = 0, EXPORT_MAX_ITEMS
    with engine.connect() as conn:
        report = rb.lists(conn, policies, s, rb.utc_now(), kinds, offset, limit)
    return export(report, format, "lists")


@router.get("/penalties", response_model=PenaltyReport, responses=REPORT_PROBLEMS)
def penalties(
    engine: EngineDep,
    unit: UnitScope,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    format: FormatQuery = "json",
) -> Any:
    """The units' penalty tables (Huangchuan 附件2) applied per unit and month: orders,
    amounts and their split; the rows the system cannot detect, for manual entry."""
    policies, s = _scope(unit, date_from, date_to)
    with engine.connect() as conn:
        report = rb.penalties(conn, policies, s)
    return export(report, format, "penalties")
