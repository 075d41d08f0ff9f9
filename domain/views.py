"""What operators and the read model see of an application: search attributes, the Temporal UI
summary and details, and the projection's input. Pure functions of the ledger.

Kept out of the workflow's module on purpose: the sandbox re-imports that module for every
workflow it starts (and compiles it, where bytecode is not cached), so it holds only the
Temporal glue; this module is passed through and loaded once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from contracts import search_attributes as sa
from contracts.application import (
    ApplicationInput,
    ApplicationState,
    ProjectionInput,
    RaisedWarning,
    TimelineEntry,
    WarningLevel,
)
from domain.answers import status
from domain.ledger import ApplicationLedger
from policies import labels
from policies.engine import Evaluation

#: A search attribute's key and the value it should have now (None: unset).
Wanted = dict[str, tuple[SearchAttributeKey[Any], Any]]


class Row(NamedTuple):
    """The application's changing state, as the read model's row, the search attributes and
    the UI details show it; compared to skip writes and upserts that would change nothing."""

    state: ApplicationState
    stage: str
    warning_level: WarningLevel | None
    next_due_at: datetime | None
    too_short: bool
    provisional: bool


def initial_search_attributes(
    inp: ApplicationInput, stage: str = "accept"
) -> TypedSearchAttributes:
    """Set at start (by the client) so an application is findable the moment it exists."""
    p = inp.profile
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(sa.BUSINESS_TYPE, p.business_type),
        SearchAttributePair(sa.UNIT, p.unit),
        SearchAttributePair(sa.STAGE, stage),
        SearchAttributePair(sa.STATE, sa.STATE_VALUES["running"]),
        SearchAttributePair(sa.ACCEPTED_AT, p.accepted_at),
    ]
    if p.voltage:
        pairs.append(SearchAttributePair(sa.VOLTAGE, p.voltage))
    if inp.customer_manager:
        pairs.append(SearchAttributePair(sa.CUSTOMER_MANAGER, inp.customer_manager))
    return TypedSearchAttributes(pairs)


def summary(inp: ApplicationInput, unit_name: str | None = None) -> str:
    """One line for Temporal UI, in Chinese with the codes in brackets so operators can search
    by them: "10kV 高压新装 [hv] 630kVA · 三门峡 [henan/sanmenxia]". No personal data: the UI
    is not access-controlled per field. `unit_name`: the organisation's name for the unit."""
    p = inp.profile
    what = " ".join(
        x for x in (p.voltage, labels.labelled(labels.BUSINESS_TYPES, p.business_type)) if x
    )
    size = f" {p.capacity_kva:g}kVA" if p.capacity_kva is not None else ""
    name = labels.UNITS.get(p.unit) or unit_name
    where = f"{name} [{p.unit}]" if name else p.unit
    return f"{what}{size} · {where}"


def search_attributes(book: ApplicationLedger, current: Row, with_state: bool = True) -> Wanted:
    """The search attributes that follow the application's state (State only where the run
    sets it: runs older than the attribute did not)."""
    wanted: Wanted = {
        sa.STAGE.name: (sa.STAGE, current.stage),
        sa.STATE.name: (sa.STATE, sa.STATE_VALUES[current.state]),
        sa.WARNING_LEVEL.name: (sa.WARNING_LEVEL, current.warning_level),
        sa.NEXT_DUE_AT.name: (sa.NEXT_DUE_AT, current.next_due_at),
        sa.PROVISIONAL.name: (sa.PROVISIONAL, current.provisional),
        sa.TOO_SHORT.name: (sa.TOO_SHORT, current.too_short),
        sa.POLICY_VERSION.name: (sa.POLICY_VERSION, book.policy.version),
    }
    if not with_state:
        del wanted[sa.STATE.name]
    return wanted


def details(current: Row, ev: Evaluation) -> str:
    """Temporal UI's current details, in Chinese with the codes in brackets: the state and
    stage, the open warning, and the next threshold ("供电方案答复 [plan_reply] 蓝色预警 [blue]
    2026-12-21 04:46")."""
    state = labels.labelled(labels.STATES, sa.STATE_VALUES[current.state])
    lines = [f"{state} · {labels.labelled(labels.STAGES, current.stage)}"]
    if current.warning_level:
        lines.append(f"已预警: {labels.labelled(labels.LEVELS, current.warning_level)}")
    if current.next_due_at is not None:
        nxt = [
            (t.due_at, t.level, m.code)
            for m in ev.monitors
            for t in m.thresholds
            if t.due_at is not None and t.due_at == current.next_due_at
        ]
        if nxt:
            due, lvl, code = nxt[0]
            # The engine returns instants in the policy's zone already.
            lines.append(
                f"下一时限: {labels.labelled(labels.STAGES, code)} "
                f"{labels.labelled(labels.LEVELS, lvl)} {due:%Y-%m-%d %H:%M}"
            )
    if current.provisional:
        lines.append("日历未发布, 时限暂定 [provisional]")
    if current.too_short:
        lines.append("超短时限, 需现场核查 [too_short]")
    return "\n".join(lines)


def row(book: ApplicationLedger, ev: Evaluation) -> Row:
    return Row(
        state=book.state,
        stage=book.stage(ev),
        warning_level=book.warning_level(),
        next_due_at=ev.next_due_at if book.state == "running" else None,
        too_short=bool(book.too_short),
        provisional=ev.provisional,
    )


def projection_input(
    book: ApplicationLedger,
    current: Row,
    now: datetime,
    timeline_offset: int,
    timeline: list[TimelineEntry],
    warnings: list[RaisedWarning],
) -> ProjectionInput:
    """The write that brings the read model up to `current`: the timeline entries from
    position `timeline_offset` on and the warnings that may have changed."""
    app = book.application
    return ProjectionInput(
        application_no=app.application_no,
        profile=app.profile,
        customer=app.customer,
        customer_manager=app.customer_manager,
        updated_at=now,
        # The row's fields are the read model's columns of the same names.
        **current._asdict(),
        timeline_offset=timeline_offset,
        timeline=timeline,
        warnings=warnings,
        final_status=status(book, book.evaluate(now)) if book.state != "running" else None,
    )
