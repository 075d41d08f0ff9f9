"""The outside line's administrative approvals (行政审批: 掘路, 占道, 绿化) in the application's
life, as pure decisions: when the application starts waiting for them, which results it keeps,
when the wait is over, and what its status shows.

- The wait opens when a plan that needs approvals stands (proposed or approved, not in joint
  review): the plan's `admin_approval` decision says so by the unit's pack (000 三(二)6, 003
  任务4, 004 一.5), and the pack's `admin_approval` stage applies with the plan's outside line
  (domain.plans.deadline_profile). An exempt line skips the stage: nothing opens, nothing waits.
- The latest result of each kind wins (by `decided_at`).
- The wait is over when every kind the plan lists is approved; a plan that names no kind is
  satisfied by its approvals in hand (at least one, none rejected). A rejection of any kind keeps
  the stage open (reopens it when it had completed) and returns the application to its customer
  manager.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from contracts.permits import (
    PermitResult,
    PermitsStatus,
    PermitStage,
    PermitState,
    RecordPermitRequest,
)
from contracts.plans import PlanRecord
from domain.ledger import ApplicationLedger
from domain.refusals import Refused
from domain.rules import Proposed, application_running, not_in_future, stage_applies

STAGE = "admin_approval"
STARTED = f"{STAGE}.started"
COMPLETED = f"{STAGE}.completed"

#: How the stage stands by its last event: None (never started), `started` or `completed`.
StageMark = Literal["started", "completed"] | None


def required_permits(record: PlanRecord | None) -> tuple[str, ...] | None:
    """The kinds the standing plan lists when it needs approvals (empty: needed, kinds not named
    yet); None when no plan stands or it needs none."""
    if record is None or record.plan is None or record.state not in ("proposed", "approved"):
        return None
    approval = record.plan.admin_approval
    if not approval.required:
        return None
    return tuple(approval.permits)


def kept(results: Sequence[PermitResult], new: PermitResult) -> list[PermitResult] | None:
    """The results with `new` in place of its kind's, or None when an equal or later result of
    that kind is kept already (a late or repeated delivery changes nothing)."""
    for r in results:
        if r.kind == new.kind and r.decided_at >= new.decided_at:
            return None
    return [*(r for r in results if r.kind != new.kind), new]


def waiting_for(required: Sequence[str], results: Sequence[PermitResult]) -> list[str]:
    """What the stage still waits for: the listed kinds not approved, then any kind rejected;
    with no kind listed, `approval` until one result is in and none is rejected."""
    latest: dict[str, str] = {r.kind: r.result for r in results}
    rejected = sorted(k for k, res in latest.items() if res == "rejected")
    if required:
        return [k for k in required if latest.get(k) != "approved"] + [
            k for k in rejected if k not in required
        ]
    if rejected:
        return rejected
    return [] if latest else ["approval"]


def opens(required: tuple[str, ...] | None, skipped: frozenset[str], mark: StageMark) -> bool:
    """Whether the application starts its wait now: the plan needs approvals, the stage applies
    to the line, and has never started."""
    return required is not None and STAGE not in skipped and mark is None


def closes(
    required: tuple[str, ...] | None, results: Sequence[PermitResult], mark: StageMark
) -> bool:
    """Whether the open stage completes: nothing is waited for any more."""
    return mark == "started" and not waiting_for(required or (), results)


def after_result(
    result: PermitResult,
    required: tuple[str, ...] | None,
    results: Sequence[PermitResult],
    mark: StageMark,
) -> str | None:
    """The event a kept result records, or None: a rejection starts (or reopens) the stage
    unless it is open; an approval completes the open stage when it was the last one awaited."""
    if result.result == "rejected":
        return None if mark == "started" else STARTED
    return COMPLETED if closes(required, results, mark) else None


def stage_of(skipped: frozenset[str], mark: StageMark) -> PermitStage:
    if STAGE in skipped:
        return "not_applicable"
    if mark is None:
        return "not_started"
    return "waiting" if mark == "started" else "completed"


def permits_status(
    record: PlanRecord | None,
    skipped: frozenset[str],
    mark: StageMark,
    results: Sequence[PermitResult],
) -> PermitsStatus | None:
    """What the status shows: None while there is nothing to show (no plan stands, no result,
    the stage never started)."""
    required = required_permits(record)
    standing = record is not None and record.plan is not None and record.state != "not_planned"
    if not standing and not results and mark is None:
        return None
    listed = required or ()
    by_kind = {r.kind: r for r in results}
    states = [
        PermitState(
            kind=k,
            state=by_kind[k].result if k in by_kind else "pending",
            listed=k in listed,
            decided_at=by_kind[k].decided_at if k in by_kind else None,
        )
        for k in [*listed, *(r.kind for r in results if r.kind not in listed)]
    ]
    stage = stage_of(skipped, mark)
    waits = stage == "waiting" or (stage == "not_started" and required is not None)
    return PermitsStatus(
        required=required is not None and stage != "not_applicable",
        stage=stage,
        source=record.plan.admin_approval.source if standing and record and record.plan else None,
        permits=states,
        waiting_for=waiting_for(listed, results) if waits else [],
    )


def mark_of(book: ApplicationLedger) -> StageMark:
    last = book.last_event_of(STAGE)
    if last is None:
        return None
    return "started" if last.event == STARTED else "completed"


def check_permit(book: ApplicationLedger, req: RecordPermitRequest, now: datetime) -> None:
    """Refused: a closed application, a result from the future, or a line the stage does not
    apply to (exempt: nothing waits for a permit)."""
    proposed = Proposed(name=STARTED, code=STAGE, suffix="started", at=req.decided_at)
    for refusal in (
        application_running(book),
        not_in_future(req.decided_at, now),
        stage_applies(book, proposed),
    ):
        if refusal is not None:
            raise Refused(refusal)


def event_at(book: ApplicationLedger, decided_at: datetime) -> datetime:
    """When a result's event is recorded: when it was decided, but never before the
    acceptance nor the stage's last event (a result in hand before the wait opened counts
    from the opening)."""
    last = book.last_event_of(STAGE)
    floor = last.at if last is not None else book.application.profile.accepted_at
    return max(decided_at, floor)
