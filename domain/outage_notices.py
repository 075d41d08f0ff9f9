"""The customers' texts of a planned outage: the notice, and the correction when dispatch moves
it. Like every SMS here, nothing personal: no name, phone or address; the feeder and the hours
are what a customer needs to prepare.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

#: Outbox keys (application_no = the outage's id, monitor, level): exactly one row per phone.
NOTICE_MONITOR = "outage.notice"
CORRECTION_MONITOR = "outage.correction"
NOTICE_LEVEL = "notice"
CORRECTION_LEVEL = "correction"


def _when(start: datetime, end: datetime, tz: str) -> str:
    zone = ZoneInfo(tz)
    a, b = start.astimezone(zone), end.astimezone(zone)
    return f"{a.year}年{a.month}月{a.day}日{a:%H:%M}至{b:%H:%M}"


def render_notice(feeder: str | None, start: datetime, end: datetime, tz: str) -> str:
    line = f"（线路{feeder}）" if feeder else ""
    return (
        f"【国网供电】尊敬的客户，因新用户接电工作，您所在的供电线路{line}计划于"
        f"{_when(start, end, tz)}停电，请提前做好准备，给您带来不便敬请谅解。"
    )


def render_correction(
    feeder: str | None,
    old: tuple[datetime, datetime],
    new: tuple[datetime, datetime] | None,
    tz: str,
) -> str:
    """The correction of a notice: the outage moved to `new`, or no longer planned."""
    line = f"（线路{feeder}）" if feeder else ""
    was = f"原定{_when(old[0], old[1], tz)}的计划停电{line}"
    if new is None:
        return f"【国网供电】更正：{was}取消，恢复正常供电安排，给您带来不便敬请谅解。"
    return f"【国网供电】更正：{was}调整为{_when(new[0], new[1], tz)}，给您带来不便敬请谅解。"
