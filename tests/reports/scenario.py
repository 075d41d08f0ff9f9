"""Scenario data for the report tests, written straight into a temporary read model: the rows
the projection would have written, with instants chosen so that the figures can be worked
out by hand on the 2026 CN calendar (Mid-Autumn Friday 09-25; National Day 10-01..10-07;
make-up working days Sunday 09-20 and Saturday 10-10)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert

from readmodel.applications import ApplicationRow, TimelineRow, WarningRow
from readmodel.report_facts import ReportApplicationRow, ReportMonitorRow

TZ = ZoneInfo("Asia/Shanghai")


def t(text: str) -> datetime:
    """A local instant: `2026-09-21 10:00`."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def s(text: str) -> int:
    return math.floor(t(text).timestamp())


class Scenario:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self, table: Any, rows: list[dict[str, Any]]) -> None:
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(table.__table__), rows)

    def application(
        self,
        no: str,
        unit: str,
        business_type: str,
        voltage: str | None,
        accepted: str,
        *,
        state: str = "completed",
        stage: str = "archive",
        events: list[tuple[str, str]] = (),  # type: ignore[assignment]
        manager: str | None = "cm-001",
        warning_level: str | None = None,
        next_due: str | None = None,
    ) -> None:
        """The application row and its timeline (accept.started first, then `events`)."""
        self._insert(
            ApplicationRow,
            [
                {
                    "application_no": no,
                    "unit": unit,
                    "business_type": business_type,
                    "voltage": voltage,
                    "state": state,
                    "stage": stage,
                    "customer_manager": manager,
                    "accepted_at": t(accepted),
                    "updated_at": t(accepted),
                    "customer_name": "测试客户",
                    "too_short": any(e == "too_short" for e, _ in events),
                    "warning_level": warning_level,
                    "next_due_at": t(next_due) if next_due else None,
                }
            ],
        )
        timeline = [("accept.started", accepted), *events]
        self._insert(
            TimelineRow,
            [
                {"application_no": no, "seq": i, "event": e, "at": t(at), "note": _note(e)}
                for i, (e, at) in enumerate(timeline)
            ],
        )

    def connected(
        self,
        no: str,
        unit: str,
        business_type: str,
        voltage: str | None,
        accepted: str,
        *,
        energized: str | None = None,
        installed: str | None = None,
        state: str | None = "completed",
        kept: tuple[int | None, int | None] = (None, None),
        judged: int | None = None,
    ) -> None:
        """The report facts of an application connected (and closed, when `state` is given)."""
        e = s(energized) if energized else None
        i = s(installed) if installed else None
        self._insert(
            ReportApplicationRow,
            [
                {
                    "application_no": no,
                    "unit": unit,
                    "business_type": business_type,
                    "voltage": voltage,
                    "accepted_s": s(accepted),
                    "energized_s": e,
                    "installed_s": i,
                    "connected_s": e if e is not None else i,
                    "state": state,
                    "closed_s": None,
                    "kept_provincial": kept[0],
                    "kept_national": kept[1],
                    "full_process_judged": judged
                    if judged is not None
                    else (1 if state is not None else None),
                }
            ],
        )

    def monitor(
        self,
        no: str,
        unit: str,
        monitor: str,
        code: str,
        started: str,
        stopped: str,
        elapsed_days: float | None,
        *,
        unit_name: str = "workday",
        kept: tuple[int | None, int | None] = (None, None),
        business_type: str = "hv",
        voltage: str | None = "10kV",
    ) -> None:
        """A monitor's outcome; `elapsed_days` in the unit's days (a working day: 24 h)."""
        self._insert(
            ReportMonitorRow,
            [
                {
                    "application_no": no,
                    "unit": unit,
                    "business_type": business_type,
                    "voltage": voltage,
                    "monitor": monitor,
                    "code": code,
                    "state": "met",
                    "started_s": s(started),
                    "stopped_s": s(stopped),
                    "elapsed_s": None if elapsed_days is None else round(elapsed_days * 86400),
                    "elapsed_unit": unit_name,
                    "kept_provincial": kept[0],
                    "kept_national": kept[1],
                }
            ],
        )

    def warning(
        self, no: str, monitor: str, code: str, level: str, raised: str, *, open_: bool = False
    ) -> None:
        self._insert(
            WarningRow,
            [
                {
                    "application_no": no,
                    "monitor": monitor,
                    "code": code,
                    "level": level,
                    "due_at": t(raised),
                    "raised_at": t(raised),
                    "roles": [],
                    "open": open_,
                }
            ],
        )


def _note(event: str) -> str | None:
    return "completion_inspection (hv.completion_inspection)" if event == "too_short" else None
