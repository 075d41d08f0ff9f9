"""The reports computed the naive way, as a baseline for bench/report_bench.py: one
application at a time, each with its own queries (its row, its timeline, its warnings, its
monitors), the scalar calendar and the statistics module. The same definitions as
domain.reports (docs/reports.md), so that the figures must agree.

Each function takes the application numbers to look at (all of them, or a sample to time) and
answers the figures the fast reports answer, in a comparable shape.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.report_builder import Scope
from domain.reports.common import Policies, unit_seconds
from domain.reports.lists import ONE_YEAR, appointment_deadlines, appointment_rule
from policies.report_tables import penalty_table
from readmodel.applications import ApplicationRow, TimelineRow, WarningRow
from readmodel.report_facts import ReportMonitorRow

ENERGIZED = ("energize.completed", "grid_connect.completed")


def _in(unit: str, scope: Scope) -> bool:
    return scope.unit is None or unit == scope.unit or unit.startswith(f"{scope.unit}/")


def _month(at: datetime, policies: Policies, unit: str) -> str:
    return f"{at.astimezone(policies.calendar(unit).zone):%Y-%m}"


def _summary(values: list[float]) -> tuple[int, float, float, float]:
    if len(values) == 1:
        return 1, round(values[0], 4), round(values[0], 4), round(values[0], 4)
    p90 = statistics.quantiles(values, n=10, method="inclusive")[8]
    return (
        len(values),
        round(statistics.fmean(values), 4),
        round(statistics.median(values), 4),
        round(p90, 4),
    )


def _days(policies: Policies, unit: str, a: datetime, b: datetime) -> float:
    cal = policies.calendar(unit)
    return cal.work_time_between(a, b).total_seconds() / unit_seconds("workday", cal)


def connection_time(
    engine: Engine, policies: Policies, scope: Scope, numbers: Sequence[str]
) -> dict[tuple[str, str, str | None], tuple[Any, ...]]:
    """Per (month, business type, voltage): the working and calendar days' summaries and the
    applications within the provincial and national whole-process limits (of those judged)."""
    groups: dict[tuple[str, str, str | None], list[tuple[float, float, int | None, int | None]]]
    groups = defaultdict(list)
    with Session(engine) as s:
        for no in numbers:
            app = s.get(ApplicationRow, no)
            if app is None or app.state == "cancelled" or not _in(app.unit, scope):
                continue
            events = s.exec(select(TimelineRow).where(TimelineRow.application_no == no)).all()
            energized = [e.at for e in events if e.event in ENERGIZED]
            installed = [e.at for e in events if e.event == "meter_install.completed"]
            connected = max(energized) if energized else max(installed) if installed else None
            if connected is None or not scope.start <= connected < scope.end:
                continue
            whole = s.exec(
                select(ReportMonitorRow).where(
                    ReportMonitorRow.application_no == no,
                    ReportMonitorRow.code == "full_process",
                    col(ReportMonitorRow.stopped_s).is_not(None),
                )
            ).all()
            kept = [
                min(v) if (v := [x for x in vs if x is not None]) else None
                for vs in ([m.kept_provincial for m in whole], [m.kept_national for m in whole])
            ]
            groups[(_month(connected, policies, app.unit), app.business_type, app.voltage)].append(
                (
                    _days(policies, app.unit, app.accepted_at, connected),
                    (connected - app.accepted_at).total_seconds() / 86400,
                    kept[0],
                    kept[1],
                )
            )
    return {
        key: (
            _summary([v[0] for v in vs]),
            _summary([v[1] for v in vs]),
            _shares([v[2] for v in vs]),
            _shares([v[3] for v in vs]),
        )
        for key, vs in groups.items()
    }


def _shares(verdicts: list[int | None]) -> tuple[int, int] | None:
    judged = [v for v in verdicts if v is not None]
    return (len(judged), sum(judged)) if judged else None


def stage_times(
    engine: Engine, policies: Policies, scope: Scope, numbers: Sequence[str]
) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Per (month, rule): how many stopped, and the means of the counted, working and
    calendar days."""
    groups: dict[tuple[str, str], list[tuple[float, float, float]]] = defaultdict(list)
    lo, hi = scope.start.timestamp(), scope.end.timestamp()
    with Session(engine) as s:
        for no in numbers:
            for m in s.exec(select(ReportMonitorRow).where(ReportMonitorRow.application_no == no)):
                if m.code == "full_process" or m.stopped_s is None or not _in(m.unit, scope):
                    continue
                if not lo <= m.stopped_s < hi:
                    continue
                cal = policies.calendar(m.unit)
                a, b = (datetime.fromtimestamp(x, UTC) for x in (m.started_s, m.stopped_s))
                counted = (
                    m.elapsed_s / unit_seconds(m.elapsed_unit, cal)
                    if m.elapsed_s is not None
                    else float("nan")
                )
                groups[(_month(b, policies, m.unit), m.monitor)].append(
                    (counted, _days(policies, m.unit, a, b), (b - a).total_seconds() / 86400)
                )
    return {
        key: (len(vs), *(round(statistics.fmean(v[i] for v in vs), 4) for i in range(3)))
        for key, vs in groups.items()
    }


def warnings(
    engine: Engine, scope: Scope, numbers: Sequence[str]
) -> dict[tuple[str, str, str], tuple[int, int]]:
    """Per (level, unit, stage): warnings raised in the period and still open."""
    out: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    with Session(engine) as s:
        for no in numbers:
            app = s.get(ApplicationRow, no)
            if app is None or not _in(app.unit, scope):
                continue
            for w in s.exec(select(WarningRow).where(WarningRow.application_no == no)):
                if scope.start <= w.raised_at < scope.end:
                    counts = out[(w.level, app.unit, w.code)]
                    counts[0] += 1
                    counts[1] += int(w.open)
    return {k: (v[0], v[1]) for k, v in out.items()}


def lists(
    engine: Engine, policies: Policies, scope: Scope, now: datetime, numbers: Sequence[str]
) -> dict[str, set[str]]:
    """The applications on each list."""
    as_of = min(scope.end, now)
    out: dict[str, set[str]] = {
        "too_short": set(),
        "late_appointment": set(),
        "overlong_pending": set(),
    }
    with Session(engine) as s:
        for no in numbers:
            app = s.get(ApplicationRow, no)
            if app is None or not _in(app.unit, scope):
                continue
            events = s.exec(select(TimelineRow).where(TimelineRow.application_no == no)).all()
            if any(e.event == "too_short" and scope.start <= e.at < scope.end for e in events):
                out["too_short"].add(no)
            if _late(app, events, policies, scope):
                out["late_appointment"].add(no)
            closed = any(
                e.event in ("archive.completed", "cancelled") and e.at <= as_of for e in events
            )
            if app.accepted_at < as_of - ONE_YEAR and not closed:
                out["overlong_pending"].add(no)
    return out


def _late(
    app: ApplicationRow, events: Sequence[TimelineRow], policies: Policies, scope: Scope
) -> bool:
    made = [e.at for e in events if e.event == "appointment_confirm.started"]
    done = [
        e.at
        for e in events
        if e.event == "appointment_confirm.completed" and scope.start <= e.at < scope.end
    ]
    if not made or not done:
        return False
    cal = policies.calendar(app.unit)
    accepted_on = app.accepted_at.astimezone(cal.zone).date()
    rule = appointment_rule(policies.policy(app.unit), app.business_type, accepted_on)
    if rule is None:
        return False
    started = float(int(min(made).timestamp()))
    due = float(appointment_deadlines(rule, np.asarray([started]), cal)[0])
    return int(max(done).timestamp()) > due


def penalties(
    engine: Engine, policies: Policies, scope: Scope, numbers: Sequence[str]
) -> dict[tuple[str, str, str], int]:
    """Per (unit, month, row): the orders fined."""
    out: dict[tuple[str, str, str], int] = defaultdict(int)
    with Session(engine) as s:
        for no in numbers:
            app = s.get(ApplicationRow, no)
            if app is None or not _in(app.unit, scope):
                continue
            table = penalty_table(policies.policy(app.unit))
            if table is None:
                continue
            warned = s.exec(select(WarningRow).where(WarningRow.application_no == no)).all()
            events = s.exec(select(TimelineRow).where(TimelineRow.application_no == no)).all()
            since = (
                datetime.combine(
                    table.effective_from, datetime.min.time(), policies.calendar(app.unit).zone
                )
                if table.effective_from
                else None
            )
            for row in table.detected:
                first = _first(row, table, app, warned, events, policies, scope)
                if first is None or not scope.start <= first < scope.end:
                    continue
                if since is not None and first < since:
                    continue
                out[(app.unit, _month(first, policies, app.unit), row.no)] += 1
    return dict(out)


def _first(
    row: Any,
    table: Any,
    app: ApplicationRow,
    warned: Sequence[WarningRow],
    events: Sequence[TimelineRow],
    policies: Policies,
    scope: Scope,
) -> datetime | None:
    if row.detect == "late_appointment":
        if not _late(app, events, policies, scope):
            return None
        return max(
            e.at
            for e in events
            if e.event == "appointment_confirm.completed" and scope.start <= e.at < scope.end
        )
    if row.detect == "monitor_warning":
        found = [w.raised_at for w in warned if w.monitor == row.monitor]
        return min(found) if found else None
    others = [r for r in table.detected if r is not row]
    skip_monitors = {r.monitor for r in others if r.monitor}
    skip_codes = {r.stage for r in others if r.stage}
    found = [
        w.raised_at
        for w in warned
        if w.level in row.levels and w.monitor not in skip_monitors and w.code not in skip_codes
    ]
    if app.business_type in (row.too_short_business_types or []):
        found += [e.at for e in events if e.event == "too_short"]
    found = [f for f in found if f < scope.end]
    return min(found) if found else None
