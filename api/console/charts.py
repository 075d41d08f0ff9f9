"""Charts for the console, as geometry: the templates draw them as SVG (autoescaped, so no text
here ever becomes markup). No JavaScript: the server decides every coordinate.

- `timeline`: one application's monitors against their limits over time, rest days and holds
  shaded, warnings marked;
- `bars`: horizontal bars with an optional target mark per bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from calendars.calendar import Calendar
from contracts.application import ApplicationStatus
from contracts.monitor import MonitorView
from policies import labels

#: The documents' colours: 蓝 / 黄 / 橙 / 红 (the console's CSS uses the same).
LEVEL_COLOURS: dict[str, str] = {
    "blue": "#1f6fd1",
    "yellow": "#e0b000",
    "orange": "#f07800",
    "red": "#d42020",
}
STATE_COLOURS: dict[str, str] = {
    "met": "#3a9a4a",
    "breached": "#d42020",
    "running": "#5a7ea8",
    "paused": "#9a7a3a",
    "pending": "#bbbbbb",
}
LEFT, RIGHT, TOP, ROW, BAR = 230, 20, 34, 34, 14


@dataclass
class Mark:
    x: float
    colour: str
    title: str


@dataclass
class MonitorRow:
    y: float
    label: str
    detail: str
    x0: float
    x1: float
    colour: str
    thresholds: list[Mark] = field(default_factory=list)
    warnings: list[Mark] = field(default_factory=list)


@dataclass
class Shade:
    x0: float
    x1: float
    kind: str  # "rest" (not a working day) or "hold" (the customer's hold)
    title: str


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class TimelineChart:
    width: int
    height: int
    left: int
    top: int
    now_x: float
    rows: list[MonitorRow]
    shades: list[Shade]
    ticks: list[Tick]


class _Scale:
    def __init__(self, start: datetime, end: datetime, width: int) -> None:
        self.start, self.span = start, max((end - start).total_seconds(), 3600.0)
        self.px = width - LEFT - RIGHT

    def x(self, at: datetime) -> float:
        seconds = (at - self.start).total_seconds()
        return round(LEFT + self.px * min(max(seconds / self.span, 0.0), 1.0), 1)


def timeline(
    status: ApplicationStatus, cal: Calendar, now: datetime, width: int = 960
) -> TimelineChart:
    """The monitors that started, each a bar from its start to its stop (or now) coloured by
    its state, with each level's instant and the warnings raised marked on it."""
    monitors = [m for m in status.monitors if m.started_at is not None]
    start = status.profile.accepted_at
    end = max([now if status.state == "running" else start, *_instants(status, monitors)])
    end += (end - start) * 0.04 + timedelta(hours=6)
    scale = _Scale(start, end, width)
    rows = [_row(i, m, status, scale, now) for i, m in enumerate(monitors)]
    height = TOP + ROW * max(len(rows), 1) + 30
    return TimelineChart(
        width=width,
        height=height,
        left=LEFT,
        top=TOP,
        now_x=scale.x(now.astimezone(start.tzinfo)),
        rows=rows,
        shades=[*_rest_days(cal, start, end, scale), *_holds(status, scale, now)],
        ticks=_ticks(cal, start, end, scale),
    )


def _instants(status: ApplicationStatus, monitors: list[MonitorView]) -> list[datetime]:
    found = [e.at for e in status.timeline]
    for m in monitors:
        found += [x for x in (m.stopped_at, m.provincial_due_at, m.national_due_at) if x]
    return found


def _row(
    i: int, m: MonitorView, status: ApplicationStatus, scale: _Scale, now: datetime
) -> MonitorRow:
    assert m.started_at is not None
    name = labels.STAGES.get(m.code) or m.code
    limit = m.provincial_limit or m.national_limit
    spent = f"{m.elapsed.amount:g}" if m.elapsed else "-"
    unit = _UNITS.get(limit.unit, limit.unit) if limit else ""
    detail = f"已用 {spent} / 时限 {limit.amount:g} {unit}" if limit else f"已用 {spent}"
    level_colour = LEVEL_COLOURS.get(m.level or "")
    colour = (
        level_colour if level_colour and m.state != "met" else STATE_COLOURS.get(m.state, "#888")
    )
    thresholds = [
        Mark(
            scale.x(t.due_at),
            LEVEL_COLOURS.get(t.level, "#888"),
            f"{labels.LEVELS.get(t.level, t.level)} {t.due_at:%Y-%m-%d %H:%M}",
        )
        for t in m.thresholds
        if t.due_at is not None
    ]
    warnings = [
        Mark(
            scale.x(w.raised_at),
            LEVEL_COLOURS.get(w.level, "#888"),
            f"已预警 {labels.LEVELS.get(w.level, w.level)} {w.raised_at:%Y-%m-%d %H:%M}",
        )
        for w in status.warnings
        if w.monitor == m.id
    ]
    return MonitorRow(
        y=TOP + ROW * i,
        label=f"{name} [{m.id}]",
        detail=detail,
        x0=scale.x(m.started_at),
        x1=scale.x(m.stopped_at or now.astimezone(m.started_at.tzinfo)),
        colour=colour,
        thresholds=thresholds,
        warnings=warnings,
    )


_UNITS = {"workday": "工作日", "workhour": "工作时", "day": "天", "hour": "小时", "minute": "分钟"}


def _days(cal: Calendar, start: datetime, end: datetime) -> list[date]:
    first = start.astimezone(cal.zone).date()
    last = end.astimezone(cal.zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _rest_days(cal: Calendar, start: datetime, end: datetime, scale: _Scale) -> list[Shade]:
    out = []
    for day in _days(cal, start, end):
        if not cal.is_workday(day):
            midnight = datetime.combine(day, datetime.min.time(), cal.zone)
            out.append(
                Shade(
                    scale.x(midnight),
                    scale.x(midnight + timedelta(days=1)),
                    "rest",
                    f"{day:%Y-%m-%d} 非工作日",
                )
            )
    return out


def _holds(status: ApplicationStatus, scale: _Scale, now: datetime) -> list[Shade]:
    out, since = [], None
    for e in status.events:
        if e.event == "pause" and since is None:
            since = e.at
        elif e.event == "resume" and since is not None:
            out.append(
                Shade(scale.x(since), scale.x(e.at), "hold", f"客户原因暂停: {e.reason or ''}")
            )
            since = None
    if since is not None:
        out.append(Shade(scale.x(since), scale.x(now.astimezone(since.tzinfo)), "hold", "暂停中"))
    return out


def _ticks(cal: Calendar, start: datetime, end: datetime, scale: _Scale) -> list[Tick]:
    days = _days(cal, start, end)
    step = max(1, len(days) // 10)
    return [
        Tick(scale.x(datetime.combine(d, datetime.min.time(), cal.zone)), f"{d:%m-%d}")
        for d in days[::step]
    ]


# -- bars -----------------------------------------------------------------------------------


@dataclass
class Bar:
    y: float
    label: str
    value: float
    width: float
    text: str
    colour: str
    target_x: float | None = None
    target_text: str = ""


@dataclass
class BarChart:
    width: int
    height: int
    left: int
    bars: list[Bar]


def bars(
    items: Sequence[tuple[str, float, str, float | None]], width: int = 720, left: int = 260
) -> BarChart:
    """(label, value, colour, target or None) per bar, scaled to the largest value or target."""
    top = max([1e-9, *(v for _, v, _, _ in items), *(t for *_, t in items if t is not None)])
    px = width - left - 80
    out = []
    for i, (label, value, colour, target) in enumerate(items):
        out.append(
            Bar(
                y=8 + 26 * i,
                label=label,
                value=value,
                width=round(px * value / top, 1),
                text=f"{value:g}",
                colour=colour,
                target_x=None if target is None else round(left + px * target / top, 1),
                target_text="" if target is None else f"目标 ≤ {target:g}",
            )
        )
    return BarChart(width=width, height=16 + 26 * max(len(out), 1), left=left, bars=out)
