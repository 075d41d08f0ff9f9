"""An imported application's past (docs/migration.md), applied to its ledger as a live run
would have recorded it: every event checked by the rules live events are, every threshold
raised at its own instant, every completion judged when it happened.

Applied twice with the same result: by the import, to check the record and write the read
model in bulk, and by the workflow at its start (ApplicationStart.history), deterministically,
so that the workflow holds what the read model already shows and writes nothing at its start.
"""

from __future__ import annotations

from datetime import datetime

from contracts.application import (
    HoldRequest,
    ImportedHistory,
    RecordedEvent,
    RecordEventRequest,
)
from contracts.errors import Refusal
from domain.ledger import ApplicationLedger
from domain.refusals import Refused
from domain.rules import check_event, check_hold
from policies.codes import PAUSE_EVENT, RESUME_EVENT


class PastRefused(Exception):
    """The `index`-th event of the past broke a rule (the refusal names the field)."""

    def __init__(self, index: int, refusal: Refusal) -> None:
        super().__init__(f"event {index}: {refusal}")
        self.index = index
        self.refusal = refusal


def replay_history(book: ApplicationLedger, history: ImportedHistory) -> None:
    """Apply `history` to a fresh ledger; raises PastRefused at the first event a live run
    would have refused. Everything it records is marked as imported."""
    until = history.imported_at
    for index, past in enumerate(history.events):
        _raise_due(book, past.at)
        try:
            recorded = _checked(book, past, until)
        except Refused as exc:
            raise PastRefused(index, exc.refusal) from None
        book.add_event(recorded, origin="imported")
        # As the update handler does: judged at once (too-short flags, warnings closed).
        book.sync(past.at)
    _raise_due(book, until)
    for warning in book.warnings:
        warning.imported = True
    for entry in book.timeline:
        entry.origin = "imported"


def _checked(book: ApplicationLedger, past: RecordedEvent, now: datetime) -> RecordedEvent:
    if past.event in (PAUSE_EVENT, RESUME_EVENT):
        hold = HoldRequest(reason=past.reason or past.note or "-", at=past.at, by=past.by)
        recorded = check_hold(book, past.event, hold, now)
    else:
        req = RecordEventRequest(event=past.event, at=past.at, by=past.by, note=past.note)
        recorded = check_event(book, req, now)
    return recorded.model_copy(update={"recorded_at": past.recorded_at})


def _raise_due(book: ApplicationLedger, until: datetime) -> None:
    """Raise the thresholds that fell due before `until`, each at its own instant and in the
    order they fell due, as the workflow's timer would have."""
    while book.state == "running":
        ev = book.evaluate(until)
        raised = {(w.monitor, w.level) for w in book.warnings}
        due = [
            t.due_at
            for m in ev.monitors
            for t in m.thresholds
            if t.due_at is not None
            and t.due_at <= until
            and t.reached
            and (m.id, t.level) not in raised
        ]
        if not due:
            return
        before = len(book.warnings)
        book.sync(min(due))
        if len(book.warnings) == before:
            # Not reached at its own instant after all (rounding): the last sync decides.
            book.sync(until)
            return
