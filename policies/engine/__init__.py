"""The SLA engine: (policy, calendar, application profile, events, as_of) → monitors.

Pure and deterministic: no I/O, no clock reads, no randomness, no state kept per process; safe
inside Temporal workflow code (the workflow passes `workflow.now()` as `as_of`). The calendar
is anything implementing `CalendarLike` (calendars.Calendar does).

Modules, by concern:

- `models`: what the engine takes (events, a calendar) and answers (an evaluation of monitors);
- `clocks`: the business and wall clocks, pauses skipped;
- `matching`, `plans`, `selection`: which rules apply to an application (`RuleIndex`,
  `select_rules`), variants applied, levels settled;
- `timeline`: the events, and what starts, stops and pauses a clock;
- `evaluation`: `evaluate` in named steps, and `clocks_started`; `memo`: `EvaluationMemo`;
- `explanation`: `effective_rules`, the rules in force for one application.

Time semantics (DESIGN.md §3): `workday`/`workhour` run on the calendar's business clock
(a working day is `day_hours` of it: 24 h under the working-day clock); `day`/`hour`/`minute`
are wall-clock. A level's instant is when the monitor's *counted* time (business time since the
start, minus pauses) reaches the level's amount: blue = provincial − blue lead, yellow =
provincial, orange = national − orange lead, red = national.
"""

from __future__ import annotations

from policies.engine.evaluation import clocks_started, evaluate
from policies.engine.explanation import EffectiveRule, EffectiveRules, effective_rules
from policies.engine.memo import EvaluationMemo
from policies.engine.models import (
    CalendarLike,
    Elapsed,
    Evaluation,
    Event,
    MonitorOut,
    PauseOut,
    State,
    Threshold,
    TooShortOut,
)
from policies.engine.selection import RuleIndex, Selection, select_rules
from policies.engine.timeline import known_event

__all__ = [
    "CalendarLike",
    "EffectiveRule",
    "EffectiveRules",
    "Elapsed",
    "Evaluation",
    "EvaluationMemo",
    "Event",
    "MonitorOut",
    "PauseOut",
    "RuleIndex",
    "Selection",
    "State",
    "Threshold",
    "TooShortOut",
    "clocks_started",
    "effective_rules",
    "evaluate",
    "known_event",
    "select_rules",
]
