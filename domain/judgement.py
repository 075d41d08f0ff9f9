"""The judgement of an evaluation: which warnings it raises or closes, which completions it
flags as too short (超短时限), which stage staff are on, how high the open warnings go.

Pure functions of the engine's evaluation and the application's record; the ledger applies
what they find.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from contracts.application import (
    LEVEL_ORDER,
    ApplicationState,
    RaisedWarning,
    RecordedEvent,
    TimelineEntry,
    TooShortFlag,
    WarningLevel,
)
from policies.codes import PAUSE_EVENT, RESUME_EVENT
from policies.engine import Evaluation, MonitorOut

#: A monitor as an update's answer shows it: state, level, next due instant.
MonitorLine = tuple[str, str | None, datetime | None]


@dataclass(frozen=True)
class Judgement:
    """What an evaluation at one instant adds to the application's record."""

    #: Monitors now met: their open warnings close (the stage finished late, but finished).
    met: frozenset[str]
    raised: tuple[RaisedWarning, ...]
    flagged: tuple[TooShortFlag, ...]
    #: The timeline entries for the raised warnings and flags, in the order they happened.
    entries: tuple[TimelineEntry, ...]

    @property
    def changes(self) -> bool:
        return bool(self.met or self.raised or self.flagged)


def judge(
    ev: Evaluation,
    now: datetime,
    warnings: Sequence[RaisedWarning],
    too_short: Sequence[TooShortFlag],
) -> Judgement:
    """Raise the warnings whose instant has come by `now`, close those whose monitor is met,
    flag too-short completions; each at most once, however often it is asked."""
    raised_before: set[tuple[str, str]] = {(w.monitor, w.level) for w in warnings}
    open_monitors = {w.monitor for w in warnings if w.open}
    flagged_before = {(f.monitor, f.rule) for f in too_short}
    met: set[str] = set()
    raised: list[RaisedWarning] = []
    flagged: list[TooShortFlag] = []
    entries: list[TimelineEntry] = []
    for m in ev.monitors:
        if m.state == "met" and m.id in open_monitors:
            met.add(m.id)
        for w in _due_warnings(m, now, raised_before):
            raised.append(w)
            entries.append(TimelineEntry(at=now, event=f"warning.{w.level}", note=_label(m)))
        flag = _too_short_flag(m, flagged_before)
        if flag is not None:
            flagged.append(flag)
            entries.append(TimelineEntry(at=now, event="too_short", note=_label(m)))
    return Judgement(
        met=frozenset(met), raised=tuple(raised), flagged=tuple(flagged), entries=tuple(entries)
    )


def _label(m: MonitorOut) -> str:
    return f"{m.code} ({m.id})"


def _due_warnings(
    m: MonitorOut, now: datetime, raised_before: set[tuple[str, str]]
) -> list[RaisedWarning]:
    due: list[RaisedWarning] = []
    for t in m.thresholds:
        if t.due_at is None or t.due_at > now or (m.id, t.level) in raised_before:
            continue
        if not t.reached:
            continue
        due.append(
            RaisedWarning(
                monitor=m.id,
                code=m.code,
                level=cast(WarningLevel, t.level),
                due_at=t.due_at,
                raised_at=now,
                roles=list(t.recipients),
                result=m.result,
                source=m.source,
                open=m.state != "met",
            )
        )
    return due


def _too_short_flag(m: MonitorOut, flagged_before: set[tuple[str, str]]) -> TooShortFlag | None:
    short = m.too_short
    if short is None or not short.flagged or (m.id, short.id) in flagged_before:
        return None
    assert m.stopped_at is not None
    return TooShortFlag(
        monitor=m.id,
        rule=short.id,
        started_at=short.started_at,
        completed_at=m.stopped_at,
        until=short.until,
        result=short.result,
        source=short.source,
    )


def monitor_lines(ev: Evaluation) -> dict[str, MonitorLine]:
    return {m.id: (m.state, m.level, m.next_due_at) for m in ev.monitors}


def moved(before: dict[str, MonitorLine], after: dict[str, MonitorLine]) -> frozenset[str]:
    """The monitors whose line differs between two judgements."""
    return frozenset(k for k, v in after.items() if before.get(k) != v)


def warning_level(warnings: Sequence[RaisedWarning]) -> WarningLevel | None:
    """The highest level among the open warnings."""
    open_levels: list[WarningLevel] = [w.level for w in warnings if w.open]
    if not open_levels:
        return None
    highest: WarningLevel = max(open_levels, key=LEVEL_ORDER.__getitem__)
    return highest


def stage(state: ApplicationState, events: Sequence[RecordedEvent], ev: Evaluation) -> str:
    """The stage staff are working on: the latest-started running stage; else the last stage
    with an event. Coordination notices and whole-process limits are not stages."""
    if state == "completed":
        return "archive"
    running = [
        m
        for m in ev.monitors
        if m.state in ("running", "paused", "breached")
        and m.started_at is not None
        and m.code != "full_process"
        and not m.coordination
        and m.stopped_at is None
    ]
    if running:
        return max(running, key=lambda m: cast(datetime, m.started_at)).code
    for e in reversed(events):
        if e.event not in (PAUSE_EVENT, RESUME_EVENT):
            return e.event.rpartition(".")[0]
    return "accept"
