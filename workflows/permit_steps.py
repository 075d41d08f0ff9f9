"""The outside line's administrative approvals in the ConnectionApplication workflow: open the
`admin_approval` stage when a plan that needs approvals stands, keep the latest result of each
permit kind the approval system reports, and complete the stage when every kind the plan
lists is approved (domain.permits decides; this records the events in the ledger).

The monitor that times the wait is the pack's (`admin_approval` monitors: 003 LV 5 and ≤ 10 kV
10 working days, 004 2 working days above 300 m, 000 Sanmenxia 3); an exempt line has no such
stage, so nothing opens and a result is refused. Workflow code, deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

from contracts.application import RecordEventRequest
from contracts.errors import refusal_error
from contracts.permits import PermitAnswer, PermitResult, RecordPermitRequest
from domain.ledger import ApplicationLedger
from domain.permits import (
    COMPLETED,
    STARTED,
    after_result,
    check_permit,
    closes,
    event_at,
    kept,
    mark_of,
    opens,
    required_permits,
    waiting_for,
)
from domain.refusals import Refused
from domain.rules import check_event

#: Running applications started before the workflow opened the wait itself replay without it.
PERMIT_PATCH = "permit-wait"


def check_record(book: ApplicationLedger, req: RecordPermitRequest, now: datetime) -> None:
    try:
        check_permit(book, req, now)
    except Refused as exc:
        raise refusal_error(exc.refusal) from None


class PermitSteps:
    def __init__(self, carried: list[PermitResult] | None = None) -> None:
        #: Whether this run opens and closes the wait itself (workflow.patched at its start).
        self.enabled = False
        #: The latest result of each kind.
        self.results: list[PermitResult] = list(carried or [])

    def start(self, book: ApplicationLedger, wake: Callable[[], None]) -> None:
        """Open the wait when the standing plan needs approvals; complete it at once when the
        results in hand already suffice. `wake` when an event was recorded."""
        if not self.enabled or book.state != "running":
            return
        required = required_permits(book.plan)
        recorded = False
        if opens(required, book.skipped, mark_of(book)) and book.plan is not None:
            kinds = ", ".join(required or ()) or "kinds not named"
            note = f"plan v{book.plan.version} needs approvals: {kinds}"
            recorded = self._record(book, STARTED, workflow.now(), note)
        if closes(required, self.results, mark_of(book)):
            note = "every permit the plan needs is approved"
            recorded = self._record(book, COMPLETED, workflow.now(), note) or recorded
        if recorded:
            wake()

    def record(self, book: ApplicationLedger, req: RecordPermitRequest) -> PermitAnswer:
        """A result from the approval system: kept when it is its kind's latest; the event it
        makes (domain.permits.after_result) recorded, checked as any event is."""
        now = workflow.now()
        check_record(book, req, now)
        new = req.result_of()
        results = kept(self.results, new)
        if results is None:
            return PermitAnswer(
                outcome="superseded", reason=f"a later {req.kind} result is recorded"
            )
        required = required_permits(book.plan)
        mark = mark_of(book)
        left = waiting_for(required or (), results)
        event = after_result(new, required, results, mark)
        if event is None:
            self.results = results
            return PermitAnswer(outcome="unchanged", reason=_why(mark, left), waiting_for=left)
        note = f"permit {req.kind} {req.result}" + (
            f" (delivery {req.delivery})" if req.delivery is not None else ""
        )
        ask = RecordEventRequest(event=event, at=event_at(book, req.decided_at), note=note)
        try:
            recorded = check_event(book, ask, now)
        except Refused as exc:
            raise refusal_error(exc.refusal) from None
        self.results = results
        book.add_event(recorded)
        return PermitAnswer(outcome="recorded", event=event, waiting_for=left)

    @staticmethod
    def _record(book: ApplicationLedger, name: str, at: datetime, note: str) -> bool:
        try:
            recorded = check_event(book, RecordEventRequest(event=name, at=at, note=note), at)
        except Refused as exc:
            workflow.logger.info("permit event %s not recorded: %s", name, exc.refusal.errors)
            return False
        book.add_event(recorded)
        return True


def _why(mark: str | None, left: list[str]) -> str:
    if mark is None:
        return "admin_approval has not started: the result is kept until it does"
    if mark == "completed":
        return "admin_approval is already completed"
    return f"still waiting for: {', '.join(left)}" if left else "admin_approval is open"
