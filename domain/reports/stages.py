"""Stage times: where the time goes, stage by stage (and coordination notice by notice).

Each stage is timed by its monitors, as the workflow judged them when the application closed
(monitor outcomes): from the rule's start to its stop. A stage timed by several rules (a
county's own limit beside the province's) has a row per rule, since their clocks differ.

- counted: the time the rule counts, in the unit of its limit (its pauses and the customer's
  holds excluded) — what the limit is judged on;
- working days / calendar days: from the rule's start to its stop, holds included;
- within: stopped by the provincial (national) due instant.
The period is the stop's: a stage belongs to the month it finished in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field

from domain.reports.common import (
    DAY_S,
    Period,
    Policies,
    Share,
    Stats,
    groups,
    per_calendar,
    period_codes,
    period_label,
    share_of,
    stats,
    unit_seconds,
    unpack,
    working_days,
)
from policies import labels
from policies.codes import STAGE_ORDER

#: A row of readmodel.report_queries.stage_outcomes.
StageRow = tuple[
    str, str, str, str | None, int, int, float | None, str | None, int | None, int | None
]
_ORDER = {code: i for i, code in enumerate(STAGE_ORDER)}


class StageTimeRow(BaseModel):
    period: str
    stage: str
    stage_label: str
    monitor: str = Field(description="The rule that timed it (e.g. hv.plan_reply)")
    monitor_label: str | None
    applications: int
    counted: Stats
    counted_unit: str | None = Field(description="The unit of the rule's limit")
    working_days: Stats
    calendar_days: Stats
    within_provincial: Share | None
    within_national: Share | None


def stage_time_rows(
    rows: Sequence[StageRow], policies: Policies, period: Period
) -> list[StageTimeRow]:
    """`rows`: readmodel.report_queries.stage_groups."""
    if not rows:
        return []
    (unit_codes, monitor_codes, code_codes, unit_name_codes), values, lists = unpack(rows, 4)
    units, monitors, codes, elapsed_units = values
    started, stopped = lists[0].astype(np.float64), lists[1].astype(np.float64)
    counted = lists[2].astype(np.float64)
    provincial, national = lists[3].astype(np.int8), lists[4].astype(np.int8)
    work = np.zeros(started.size)
    periods = np.zeros(started.size, dtype=np.int64)
    for cal, at in per_calendar(policies, unit_codes, units):
        work[at] = working_days(cal, started[at], stopped[at])
        periods[at] = period_codes(cal, stopped[at], period)
        for u in np.unique(unit_name_codes[at]).tolist():
            scale = unit_seconds(str(elapsed_units[u]), cal)
            mine = at[unit_name_codes[at] == u]
            counted[mine] = np.where(counted[mine] < 0, np.nan, counted[mine] / scale)
    plain = (stopped - started) / DAY_S
    out = []
    for (key_period, monitor), at in groups(periods, monitor_codes):
        first = int(at[0])
        code, rule = str(codes[code_codes[first]]), str(monitors[monitor])
        values_ = counted[at]
        out.append(
            StageTimeRow(
                period=period_label(key_period, period),
                stage=code,
                stage_label=labels.STAGES.get(code) or code,
                monitor=rule,
                monitor_label=_label(policies, str(units[unit_codes[first]]), rule),
                applications=int(at.size),
                counted=stats(values_[~np.isnan(values_)]),
                counted_unit=elapsed_units[unit_name_codes[first]],
                working_days=stats(work[at]),
                calendar_days=stats(plain[at]),
                within_provincial=share_of(provincial[at]),
                within_national=share_of(national[at]),
            )
        )
    return sorted(out, key=lambda r: (r.period, _ORDER.get(r.stage, len(_ORDER)), r.monitor))


def _label(policies: Policies, unit: str, rule: str) -> str | None:
    try:
        return policies.policy(unit).monitor(rule).label
    except KeyError:
        return None  # a rule the unit's pack no longer has
