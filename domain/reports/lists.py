"""The lists managers act on, one row per application:

- `too_short` (超短时限, 现场核查): every too-short flag the workflow raised in the period;
  the rule and stage are in the flag's note.
- `late_appointment` (预约确认超期): appointment confirmations completed in the period after
  their deadline, by the unit's own appointment rule (the `appointment_confirm` monitors of its
  pack: 预约时间当日, from the appointment day's 00:00). Units whose pack has no such rule have
  none; rules that depend on the channel (the online 18-hour contact) are not applied, since
  the read model does not keep the channel.
- `overlong_pending` (超长结存): applications in flight for more than a year (365 plain days,
  as the Huangchuan pack reads "超过1年") at the end of the period, or now if that is earlier.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, Field

from calendars.batch import day_seconds, local_seconds
from calendars.calendar import Calendar
from domain.reports.common import (
    DAY_S,
    Floats,
    Policies,
    factorize,
    instant,
    local_date,
    per_calendar,
)
from policies.schema import MonitorRule, ResolvedPolicy

ListKind = Literal["too_short", "late_appointment", "overlong_pending"]
LIST_LABELS: dict[str, str] = {
    "too_short": "超短时限工单 (现场核查)",
    "late_appointment": "预约确认超期工单",
    "overlong_pending": "超长结存工单 (在途超过1年)",
}
APPOINTMENT = "appointment_confirm"
ONE_YEAR = timedelta(days=365)


class ListItem(BaseModel):
    list: ListKind
    application_no: str
    unit: str
    business_type: str
    voltage: str | None
    stage: str
    state: str
    customer_manager: str | None
    at: datetime = Field(
        description="too_short: when flagged; late_appointment: when confirmed; "
        "overlong_pending: when accepted"
    )
    due_at: datetime | None = Field(default=None, description="The deadline passed, if any")
    detail: str


class Entry(NamedTuple):
    """A list row before it is shown: which application, instants as epoch seconds."""

    kind: ListKind
    application_no: str
    unit: str
    at: float
    due: float | None
    #: The flag's note, the rule judged by, or the days pending: what the detail shows.
    note: str

    def item(self, app: Sequence[Any] | None, policies: Policies) -> ListItem:
        """`app`: (application_no, unit, business_type, voltage, stage, state,
        customer_manager) as readmodel.report_queries.listed reads them."""
        _, unit, business_type, voltage, stage, state, manager = app or (
            self.application_no, self.unit, "", None, "", "", None,
        )  # fmt: skip
        cal = policies.calendar(self.unit)
        return ListItem(
            list=self.kind,
            application_no=self.application_no,
            unit=unit,
            business_type=business_type,
            voltage=voltage,
            stage=stage,
            state=state,
            customer_manager=manager,
            at=instant(cal, self.at),
            due_at=instant(cal, self.due) if self.due is not None else None,
            detail=self.detail,
        )

    @property
    def detail(self) -> str:
        if self.kind == "too_short":
            return f"超短时限: {self.note}"
        if self.kind == "late_appointment":
            assert self.due is not None
            return f"预约确认超期 {_hours(self.at - self.due)} ({self.note})"
        return f"在途 {self.note} 天"


def too_short_entries(rows: Sequence[tuple[Any, ...]]) -> list[Entry]:
    """`rows`: readmodel.report_queries.too_short_entries."""
    entries = [Entry("too_short", r[0], r[1], float(r[2]), None, r[3] or "") for r in rows]
    return sorted(entries, key=lambda e: (e.at, e.application_no))


def late_appointment_entries(rows: Sequence[tuple[Any, ...]], policies: Policies) -> list[Entry]:
    """The confirmations of `rows` (readmodel.report_queries.appointments) that came after
    the deadline of the unit's appointment rule."""
    rows = [r for r in rows if r[3] is not None and r[4] is not None]
    if not rows:
        return []
    cols: list[Any] = list(zip(*rows, strict=True))
    unit_codes, units = factorize(cols[1])
    type_codes, types = factorize(cols[2])
    started = np.asarray(cols[3], dtype=np.float64)
    completed = np.asarray(cols[4], dtype=np.float64)
    accepted = np.asarray(cols[5], dtype=np.float64)
    due = np.full(len(rows), np.nan)
    rule_codes = np.full(len(rows), -1, dtype=np.int64)
    rules: list[MonitorRule] = []
    for cal, at in per_calendar(policies, unit_codes, units):
        # The rule depends on the unit, the business type and the acceptance day only: found
        # once per distinct triple, then each rule's deadlines computed for all its rows.
        days = np.floor(local_seconds(cal, accepted[at]) / DAY_S).astype(np.int64)
        span = int(days.max() - days.min()) + 1
        keys = (unit_codes[at] * len(types) + type_codes[at]) * span + (days - days.min())
        distinct, first, back = np.unique(keys, return_index=True, return_inverse=True)
        by_id = {r.id: n for n, r in enumerate(rules)}
        found = np.full(distinct.size, -1, dtype=np.int64)
        for k, row in enumerate(first.tolist()):
            i = int(at[row])
            on = local_date(cal, float(accepted[i]))
            rule = appointment_rule(
                policies.policy(str(units[unit_codes[i]])), str(types[type_codes[i]]), on
            )
            if rule is not None:
                if rule.id not in by_id:
                    by_id[rule.id] = len(rules)
                    rules.append(rule)
                found[k] = by_id[rule.id]
        rule_codes[at] = found[back.ravel()]
        for r, rule in enumerate(rules):
            members = at[rule_codes[at] == r]
            if members.size:
                due[members] = appointment_deadlines(rule, started[members], cal)
    late = np.flatnonzero(completed > due).tolist()  # NaN (no rule) is never late
    done, deadline, rule_of = completed.tolist(), due.tolist(), rule_codes.tolist()
    entries = [
        Entry(
            "late_appointment",
            cols[0][i],
            cols[1][i],
            done[i],
            deadline[i],
            rules[rule_of[i]].id,
        )
        for i in late
    ]
    return sorted(entries, key=lambda e: (e.at, e.application_no))


def appointment_rule(
    policy: ResolvedPolicy, business_type: str, accepted_on: date
) -> MonitorRule | None:
    """The unit's appointment-confirmation rule for a business type, if the read model's
    attributes decide it (rules on the channel or other attributes are not applied)."""
    for rule in policy.monitors:
        if rule.code != APPOINTMENT or rule.enabled is False or rule.provincial is None:
            continue
        if not rule.in_force(accepted_on):
            continue
        when = rule.when
        decided = when is None or set(when.model_dump(exclude_none=True)) <= {"business_types"}
        if decided and (when is None or business_type in (when.business_types or [])):
            return rule
    return None


def appointment_deadlines(rule: MonitorRule, started: Floats, cal: Calendar) -> Floats:
    """The rule's provincial deadline for appointments made at `started` (epoch seconds): from
    the appointment (its local day's 00:00 when the rule truncates), plain time, or working
    time on the calendar for a working-time limit."""
    limit = rule.provincial
    assert limit is not None and rule.start is not None
    base = started
    if rule.start.truncate == "day":
        local = local_seconds(cal, started)
        base = started - (local - np.floor(local / DAY_S) * DAY_S)
    if not limit.working:
        return base + limit.to_timedelta().total_seconds()
    delta = limit.to_timedelta(day_seconds(cal) / 3600)
    return np.asarray(
        [cal.add_work_time(instant(cal, b), delta).timestamp() for b in base.tolist()]
    )


def overlong_entries(rows: Sequence[tuple[Any, ...]], as_of: datetime) -> list[Entry]:
    """`rows`: readmodel.report_queries.pending_at."""
    end = as_of.timestamp()
    year = ONE_YEAR.total_seconds()
    entries = [
        Entry(
            "overlong_pending",
            r[0],
            r[1],
            float(r[2]),
            float(r[2]) + year,
            str(int((end - float(r[2])) // DAY_S)),
        )
        for r in rows
    ]
    return sorted(entries, key=lambda e: (e.at, e.application_no))


def _hours(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours / 24:.1f} 天" if hours >= 24 else f"{hours:.1f} 小时"
