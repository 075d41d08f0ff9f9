"""The reports' reads: one statement per question, filtered and aggregated in the database,
answering plain tuples (instants as UTC epoch seconds, so that nothing is converted per row).

Scope: an application belongs to a report on unit U when its unit is U or a unit under it
(`henan` takes `henan/sanmenxia`). Periods are half-open, [start, end).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Select,
    Text,
    and_,
    case,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from readmodel.applications import ApplicationRow, TimelineRow, WarningRow
from readmodel.report_facts import FULL_PROCESS, ReportApplicationRow, ReportMonitorRow

APP = ApplicationRow.__table__  # type: ignore[attr-defined]
TL = TimelineRow.__table__  # type: ignore[attr-defined]
WARN = WarningRow.__table__  # type: ignore[attr-defined]
FACTS = ReportApplicationRow.__table__  # type: ignore[attr-defined]
MON = ReportMonitorRow.__table__  # type: ignore[attr-defined]

#: Timeline entries that close an application.
CLOSING = ("archive.completed", "cancelled")

Row = tuple[Any, ...]


class epoch(FunctionElement[int]):
    """Seconds since 1970-01-01 UTC of a UTC column (the read model stores instants in UTC)."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: epoch, compiler: Any, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch, "postgresql")
def _epoch_pg(element: epoch, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS BIGINT)"


class numbers(FunctionElement[str]):
    """The group's members as one text: per member its integer columns joined by ':', the
    members joined by ','. Packed per member, the columns cannot come apart."""

    type = Text()
    inherit_cache = True


def _packed(element: numbers, compiler: Any, **kw: Any) -> str:
    return " || ':' || ".join(f"CAST({compiler.process(c, **kw)} AS TEXT)" for c in element.clauses)


@compiles(numbers, "sqlite")
def _numbers_sqlite(element: numbers, compiler: Any, **kw: Any) -> str:
    return f"group_concat({_packed(element, compiler, **kw)}, ',')"


@compiles(numbers, "postgresql")
def _numbers_pg(element: numbers, compiler: Any, **kw: Any) -> str:
    return f"string_agg({_packed(element, compiler, **kw)}, ',')"


def in_scope(unit: str | None, column: Any = APP.c.unit) -> ColumnElement[bool]:
    if unit is None:
        return literal(True)
    return or_(column == unit, column.startswith(f"{unit}/", autoescape=True))


def _all(conn: Connection, stmt: Select[Any]) -> list[Row]:
    # Rows are tuples already; fetched at once, in the driver's loop rather than Python's.
    return conn.execute(stmt).all()  # type: ignore[return-value]


# -- connection time ----------------------------------------------------------------------------


def connection_groups(
    conn: Connection, unit: str | None, start: datetime, end: datetime
) -> list[Row]:
    """Per (unit, business_type, voltage): how many applications of the scope were connected
    in [start, end) (not cancelled), and packed per application (`numbers`) its acceptance
    and connection instants, whether they kept the provincial and the national
    whole-process limits (1, 0, -1 not judged: no such limit, or not closed yet) and how many
    whole-process monitors were judged."""
    stmt = (
        select(
            FACTS.c.unit,
            FACTS.c.business_type,
            FACTS.c.voltage,
            func.count(),
            numbers(
                FACTS.c.accepted_s,
                FACTS.c.connected_s,
                func.coalesce(FACTS.c.kept_provincial, -1),
                func.coalesce(FACTS.c.kept_national, -1),
                func.coalesce(FACTS.c.full_process_judged, 0),
            ),
        )
        .where(*_connected(unit, start, end))
        .group_by(FACTS.c.unit, FACTS.c.business_type, FACTS.c.voltage)
    )
    return _all(conn, stmt)


def _connected(unit: str | None, start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    return [
        FACTS.c.connected_s >= math.floor(start.timestamp()),
        FACTS.c.connected_s < math.floor(end.timestamp()),
        or_(FACTS.c.state.is_(None), FACTS.c.state != "cancelled"),
        in_scope(unit, FACTS.c.unit),
    ]


def monitor_amounts(
    conn: Connection, unit: str | None, start: datetime, end: datetime, monitors: Sequence[str]
) -> list[Row]:
    """(unit, business_type, voltage, connected, monitor, elapsed seconds, elapsed unit) of
    the given rules, for the applications connected in the period whose outcome is recorded.
    Found from the rules' few outcomes (then each one's connection), not from every
    application connected."""
    if not monitors:
        return []
    connected = (
        select(FACTS.c.connected_s)
        .where(
            FACTS.c.application_no == MON.c.application_no,
            or_(FACTS.c.state.is_(None), FACTS.c.state != "cancelled"),
        )
        .scalar_subquery()
    )
    found = (
        select(
            MON.c.unit,
            MON.c.business_type,
            MON.c.voltage,
            connected.label("connected"),
            MON.c.monitor,
            MON.c.elapsed_s,
            MON.c.elapsed_unit,
        )
        .where(
            MON.c.monitor.in_(list(monitors)),
            MON.c.elapsed_s.is_not(None),
            MON.c.stopped_s.is_not(None),
            in_scope(unit, MON.c.unit),
        )
        .subquery("found")
    )
    stmt = select(found).where(
        found.c.connected >= math.floor(start.timestamp()),
        found.c.connected < math.floor(end.timestamp()),
    )
    return _all(conn, stmt)


# -- stage times --------------------------------------------------------------------------------


def stage_groups(conn: Connection, unit: str | None, start: datetime, end: datetime) -> list[Row]:
    """Per (unit, monitor, code, elapsed unit), for every monitor but the whole-process ones
    that stopped in the period (recorded when their applications closed): how many, and
    packed per monitor (`numbers`) its start and stop instants, the seconds their
    rule counted (-1 when none), and whether they stopped within the provincial and the
    national limits (1, 0, -1 without such a limit)."""
    stmt = (
        select(
            MON.c.unit,
            MON.c.monitor,
            MON.c.code,
            MON.c.elapsed_unit,
            func.count(),
            numbers(
                MON.c.started_s,
                MON.c.stopped_s,
                func.coalesce(MON.c.elapsed_s, -1),
                func.coalesce(MON.c.kept_provincial, -1),
                func.coalesce(MON.c.kept_national, -1),
            ),
        )
        .where(
            MON.c.stopped_s >= math.floor(start.timestamp()),
            MON.c.stopped_s < math.floor(end.timestamp()),
            MON.c.code != FULL_PROCESS,
            in_scope(unit, MON.c.unit),
        )
        .group_by(MON.c.monitor, MON.c.unit, MON.c.code, MON.c.elapsed_unit)
    )
    return _all(conn, stmt)


# -- warnings -----------------------------------------------------------------------------------


def warning_counts(conn: Connection, unit: str | None, start: datetime, end: datetime) -> list[Row]:
    """(level, unit, code, raised, still open) of the warnings raised in the period."""
    stmt = (
        select(
            WARN.c.level,
            APP.c.unit,
            WARN.c.code,
            func.count(),
            func.sum(case((WARN.c.open, 1), else_=0)),
        )
        .join(APP, APP.c.application_no == WARN.c.application_no)
        .where(WARN.c.raised_at >= start, WARN.c.raised_at < end, in_scope(unit))
        .group_by(WARN.c.level, APP.c.unit, WARN.c.code)
    )
    return _all(conn, stmt)


# -- lists --------------------------------------------------------------------------------------

_LISTED = (
    APP.c.application_no,
    APP.c.unit,
    APP.c.business_type,
    APP.c.voltage,
    APP.c.stage,
    APP.c.state,
    APP.c.customer_manager,
)


def listed(conn: Connection, numbers: Sequence[str]) -> dict[str, Row]:
    """(application_no, unit, business_type, voltage, stage, state, customer_manager) of
    the given applications (a page of a list), by number."""
    if not numbers:
        return {}
    rows = _all(conn, select(*_LISTED).where(APP.c.application_no.in_(list(numbers))))
    return {r[0]: r for r in rows}


def too_short_entries(
    conn: Connection, unit: str | None, start: datetime, end: datetime
) -> list[Row]:
    """(application_no, unit, flagged at, note) of every too-short flag raised in the period
    (the note names the stage and rule)."""
    stmt = (
        select(APP.c.application_no, APP.c.unit, epoch(TL.c.at), TL.c.note)
        .join(APP, APP.c.application_no == TL.c.application_no)
        .where(TL.c.event == "too_short", TL.c.at >= start, TL.c.at < end, in_scope(unit))
    )
    return _all(conn, stmt)


def appointments(
    conn: Connection,
    unit: str | None,
    start: datetime,
    end: datetime,
    stage: str,
    units: Sequence[str] | None = None,
) -> list[Row]:
    """(application_no, unit, business_type, first `<stage>.started`, last
    `<stage>.completed` in the period, accepted) of the applications (of the scope, and of
    `units` when given) whose stage completed in the period."""
    started, completed = f"{stage}.started", f"{stage}.completed"
    done = (
        select(TL.c.application_no.label("no"), func.max(epoch(TL.c.at)).label("completed"))
        .where(TL.c.event == completed, TL.c.at >= start, TL.c.at < end)
        .group_by(TL.c.application_no)
        .subquery("done")
    )
    # The appointments themselves (every one: an appointment may lie long before its
    # confirmation); the earliest counts.
    made = (
        select(TL.c.application_no.label("no"), func.min(epoch(TL.c.at)).label("started"))
        .where(TL.c.event == started)
        .group_by(TL.c.application_no)
        .subquery("made")
    )
    stmt = (
        select(
            APP.c.application_no,
            APP.c.unit,
            APP.c.business_type,
            made.c.started,
            done.c.completed,
            epoch(APP.c.accepted_at),
        )
        .join(done, done.c.no == APP.c.application_no)
        .outerjoin(made, made.c.no == APP.c.application_no)
        .where(in_scope(unit), *_among(units))
    )
    return _all(conn, stmt)


def _among(units: Sequence[str] | None) -> list[ColumnElement[bool]]:
    return [] if units is None else [APP.c.unit.in_(list(units))]


def pending_at(
    conn: Connection, unit: str | None, as_of: datetime, accepted_before: datetime
) -> list[Row]:
    """(application_no, unit, accepted) of the applications accepted before
    `accepted_before` and not closed by `as_of` (no archive or cancellation recorded at or
    before it)."""
    closed = (
        select(TL.c.application_no)
        .where(TL.c.event.in_(CLOSING), TL.c.at <= as_of)
        .scalar_subquery()
    )
    stmt = select(APP.c.application_no, APP.c.unit, epoch(APP.c.accepted_at)).where(
        APP.c.accepted_at < accepted_before,
        in_scope(unit),
        APP.c.application_no.not_in(closed),
    )
    return _all(conn, stmt)


# -- penalties ----------------------------------------------------------------------------------


def first_warnings(
    conn: Connection,
    unit: str | None,
    end: datetime,
    levels: Sequence[str] | None = None,
    monitors: Sequence[str] | None = None,
    not_monitors: Sequence[str] = (),
    not_codes: Sequence[str] = (),
    units: Sequence[str] | None = None,
) -> list[Row]:
    """(application_no, unit, business_type, first raised) per application: its first warning
    (of `levels`, on `monitors`, on none of `not_monitors` and `not_codes`) raised before
    `end`. The first ever, so an order is counted once, in the month it first qualified."""
    conditions: list[ColumnElement[bool]] = [WARN.c.raised_at < end, in_scope(unit), *_among(units)]
    if levels is not None:
        conditions.append(WARN.c.level.in_(list(levels)))
    if monitors is not None:
        conditions.append(WARN.c.monitor.in_(list(monitors)))
    if not_monitors:
        conditions.append(WARN.c.monitor.not_in(list(not_monitors)))
    if not_codes:
        conditions.append(WARN.c.code.not_in(list(not_codes)))
    stmt = (
        select(
            APP.c.application_no, APP.c.unit, APP.c.business_type, func.min(epoch(WARN.c.raised_at))
        )
        .join(APP, APP.c.application_no == WARN.c.application_no)
        .where(and_(*conditions))
        .group_by(APP.c.application_no, APP.c.unit, APP.c.business_type)
    )
    return _all(conn, stmt)


def first_too_short(
    conn: Connection,
    unit: str | None,
    end: datetime,
    business_types: Sequence[str],
    units: Sequence[str] | None = None,
) -> list[Row]:
    """(application_no, unit, business_type, first flagged) per application of those types
    flagged too short before `end`."""
    stmt = (
        select(APP.c.application_no, APP.c.unit, APP.c.business_type, func.min(epoch(TL.c.at)))
        .join(APP, APP.c.application_no == TL.c.application_no)
        .where(
            TL.c.event == "too_short",
            TL.c.at < end,
            APP.c.business_type.in_(list(business_types)),
            in_scope(unit),
            *_among(units),
        )
        .group_by(APP.c.application_no, APP.c.unit, APP.c.business_type)
    )
    return _all(conn, stmt)


def units_in_scope(conn: Connection, unit: str | None) -> list[str]:
    """The units of the scope that have applications."""
    stmt = select(APP.c.unit).where(in_scope(unit)).distinct().order_by(APP.c.unit)
    return [str(r[0]) for r in conn.execute(stmt)]
