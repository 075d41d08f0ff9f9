"""What the application answers: its full status (the `status` query, the read model's final
status), an update's short answer, and the workflow's result.

The status shows the monitors as the contract's MonitorView, converted here from the engine's
output, so that a stored status never depends on the engine's models.
"""

from __future__ import annotations

from contracts.application import (
    ApplicationOutcome,
    ApplicationStatus,
    CalendarRef,
    MonitorBrief,
    PolicyRef,
    RecordedEvent,
    UpdateResult,
)
from contracts.monitor import MonitorView
from domain.ledger import ApplicationLedger
from policies.engine import Evaluation


def monitor_views(ev: Evaluation) -> list[MonitorView]:
    return [MonitorView.model_validate(m, from_attributes=True) for m in ev.monitors]


def status(
    book: ApplicationLedger, ev: Evaluation, waiting_on: str | None = None
) -> ApplicationStatus:
    latest = book.calendars[-1].snapshot
    return ApplicationStatus(
        application_no=book.application.application_no,
        state=book.state,
        stage=book.stage(ev),
        profile=book.application.profile,
        customer_manager=book.application.customer_manager,
        timeline=list(book.timeline),
        cancel_reason=book.cancel_reason,
        policy=PolicyRef(unit=book.policy.unit, version=book.policy.version),
        calendar=CalendarRef(
            region=latest.region,
            version=latest.version,
            versions=list(dict.fromkeys(s.snapshot.version for s in book.calendars)),
        ),
        as_of=ev.as_of,
        monitors=monitor_views(ev),
        warnings=list(book.warnings),
        warning_level=book.warning_level(),
        next_due_at=ev.next_due_at if book.state == "running" else None,
        provisional=ev.provisional,
        paused=book.paused,
        too_short=list(book.too_short),
        skipped_stages=ev.skipped_stages,
        events=list(book.events),
        waiting_on=waiting_on,
        plan=book.plan,
    )


def brief(
    book: ApplicationLedger, ev: Evaluation, recorded: RecordedEvent | None = None
) -> UpdateResult:
    """The answer to an update, given right after the sync that judged it: only what this
    change moved, because the answer is in the history and decoded by the caller."""
    moved = book.moved
    return UpdateResult(
        application_no=book.application.application_no,
        state=book.state,
        stage=book.stage(ev),
        paused=book.paused,
        warning_level=book.warning_level(),
        next_due_at=ev.next_due_at if book.state == "running" else None,
        provisional=ev.provisional,
        recorded=recorded,
        too_short=book.new_flags,
        changed_monitors=[
            MonitorBrief(
                id=m.id, code=m.code, state=m.state, level=m.level, next_due_at=m.next_due_at
            )
            for m in ev.monitors
            if moved is None or m.id in moved
        ],
    )


def outcome(book: ApplicationLedger, ev: Evaluation) -> ApplicationOutcome:
    return ApplicationOutcome(
        application_no=book.application.application_no,
        state=book.state,
        stage=book.stage(ev),
        closed_at=ev.as_of,
        cancel_reason=book.cancel_reason,
        events=len(book.events),
        warnings=len(book.warnings),
        too_short=len(book.too_short),
        runs=book.runs,
    )
