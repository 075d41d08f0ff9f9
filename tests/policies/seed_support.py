"""Helpers shared by the seed test modules (each reads one document's numbers back out of the
engine through the preview)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from calendars import get_calendar
from policies.preview import PreviewMonitor, PreviewRequest, PreviewResponse, preview
from policies.schema import Duration

CST = timezone(timedelta(hours=8))
CAL = get_calendar("CN")
#: A Monday in a week without holidays.
MON = datetime(2026, 11, 16, 9, 0, tzinfo=CST)


def at(y: int, mo: int, d: int, h: int = 9, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=CST)


def plus_workdays(start: datetime, n: int) -> datetime:
    """Oracle for holiday-free weeks: n working days of 24 h, skipping Saturdays and Sundays."""
    t = start
    while n:
        t += timedelta(days=1)
        if t.weekday() < 5:
            n -= 1
    return t


def mon(resp: PreviewResponse, rule_id: str) -> PreviewMonitor:
    found = [m for m in resp.monitors if m.id == rule_id]
    assert found, f"no monitor {rule_id}; have {[m.id for m in resp.monitors]}"
    return found[0]


def ids(resp: PreviewResponse) -> set[str]:
    return {m.id for m in resp.monitors}


def dues(m: PreviewMonitor) -> dict[str, datetime | None]:
    return {t.level: t.due_at for t in m.thresholds}


def lim(d: Duration | None) -> tuple[float, str] | None:
    return None if d is None else (d.amount, d.unit)


def preview_for(
    unit: str,
    events: tuple[tuple[str, datetime], ...],
    defaults: dict[str, Any],
    **body: Any,
) -> PreviewResponse:
    """The preview of an application of `unit` accepted on MON: the module's defaults, then
    the test's own fields, then its events."""
    data: dict[str, Any] = {"unit": unit, "accepted_at": MON.isoformat(), **defaults, **body}
    data["events"] = [{"event": e, "at": t.isoformat()} for e, t in events]
    return preview(PreviewRequest.model_validate(data), calendar=CAL)
