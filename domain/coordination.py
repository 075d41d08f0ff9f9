"""Coordination notices (协同通知) decided: which the pack's table issues now, which round an
issue opens, whether an answer is accepted, and when a round is complete. Pure functions over
the ledger, its evaluation and the notices so far; the workflow's steps (workflows.notice_steps)
act on the answers.

A round is the notices of one kind issued together; a rejection closes it and the next issue of
that kind opens a new round with a fresh clock (the kind's monitor starts at its last start).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from contracts.application import RecordedEvent
from contracts.coordination import NoticeRecord, notice_id
from contracts.errors import Refusal
from domain.ledger import ApplicationLedger
from policies.codes import DEPARTMENTS
from policies.engine import Evaluation
from policies.notice_table import NoticeRow, notice_rows

#: The actor of the start events the notices record: a manual start of the same kind while
#: its notices are open is a repeat of this one.
ISSUED_BY = "coordination"
#: The implicit event of every application: its acceptance.
ACCEPTED = "accept.started"


def kind_applies(book: ApplicationLedger, ev: Evaluation, kind: str) -> bool:
    """A notice needs a clock: a monitor of its code for this application, stage not skipped."""
    return kind not in book.skipped and any(m.code == kind for m in ev.monitors)


def _triggered(book: ApplicationLedger, trigger: str) -> bool:
    """The trigger happened in this system: a trigger in an imported past was the old system's
    to notify (docs/migration.md), and its notice is not issued again at the import."""
    imported = {(t.event, t.at) for t in book.timeline if t.origin == "imported"}
    if trigger == ACCEPTED:
        return not any(event.startswith("accept.") for event, _ in imported)
    return any(e.event == trigger and (e.event, e.at) not in imported for e in book.events)


def stage_done(book: ApplicationLedger, kind: str) -> bool:
    """Staff completed the kind's stage by hand: the table's notice is moot."""
    last = book.last_event_of(kind)
    return last is not None and last.event.endswith(".completed")


def rows_due(
    book: ApplicationLedger, ev: Evaluation, notices: Sequence[NoticeRecord]
) -> list[NoticeRow]:
    """The table's rows to issue now: the application's business type, the trigger recorded,
    the kind timed for it, nothing of that kind issued yet nor its stage completed by hand."""
    issued = {n.kind for n in notices}
    business_type = book.application.profile.business_type
    return [
        row
        for row in notice_rows(book.start_policy)
        if business_type in row.business_types
        and row.kind not in issued
        and not stage_done(book, row.kind)
        and _triggered(book, row.trigger)
        and kind_applies(book, ev, row.kind)
    ]


def current_round(notices: Sequence[NoticeRecord], kind: str) -> list[NoticeRecord]:
    of_kind = [n for n in notices if n.kind == kind]
    if not of_kind:
        return []
    last = max(n.round for n in of_kind)
    return [n for n in of_kind if n.round == last]


def round_closed(notices: Sequence[NoticeRecord]) -> bool:
    """A round is over once a department rejected it or nobody is left to answer."""
    return any(n.state == "rejected" for n in notices) or all(n.state != "open" for n in notices)


def round_agreed(notices: Sequence[NoticeRecord]) -> bool:
    """Every department of the round (but those withdrawn) has agreed."""
    live = [n for n in notices if n.state != "withdrawn"]
    return bool(live) and all(n.state == "answered" and n.result == "agreed" for n in live)


def open_departments(notices: Sequence[NoticeRecord], kind: str) -> list[str]:
    """The departments a warning of `kind` chases: those of the current round not yet answered."""
    return [n.department for n in current_round(notices, kind) if n.state == "open"]


def due_at(ev: Evaluation, kind: str) -> datetime | None:
    """The notice's due instant: its monitor's provincial limit, else its national one."""
    for m in ev.monitors:
        if m.code == kind:
            return m.provincial_due_at or m.national_due_at
    return None


def check_issue(
    book: ApplicationLedger, ev: Evaluation, kind: str, departments: Sequence[str]
) -> Refusal | None:
    if book.state != "running":
        return Refusal.one("closed", "application_no", f"the application is {book.state}")
    unknown = sorted(set(departments) - DEPARTMENTS)
    if unknown:
        return Refusal.one(
            "invalid", "departments", f"unknown department(s) {unknown}; see docs/glossary.md"
        )
    if len(set(departments)) != len(departments):
        return Refusal.one("invalid", "departments", "a department is listed twice")
    if not kind_applies(book, ev, kind):
        return Refusal.one(
            "invalid", "kind", f"no limit for {kind!r} applies to this application in its pack"
        )
    return None


def plan_issue(
    notices: Sequence[NoticeRecord], kind: str, departments: Sequence[str]
) -> tuple[int, list[str], list[NoticeRecord]]:
    """The round an issue goes into, the departments it adds, and the open notices a new
    round replaces (to withdraw). A live round takes more departments; a closed one (or none)
    makes the next round."""
    current = current_round(notices, kind)
    if current and not round_closed(current):
        have = {n.department for n in current}
        return current[0].round, [d for d in departments if d not in have], []
    next_round = current[0].round + 1 if current else 1
    stale = [n for n in current if n.state == "open"]
    return next_round, list(departments), stale


def needs_start(book: ApplicationLedger, kind: str, round_no: int) -> bool:
    """Whether issuing records the kind's start: always for a new round after the first; for
    the first, unless staff already started the stage by hand (the notice joins that clock)."""
    if round_no > 1:
        return True
    last = book.last_event_of(kind)
    return last is None or not last.event.endswith(".started")


def new_notices(
    book: ApplicationLedger,
    kind: str,
    departments: Sequence[str],
    round_no: int,
    at: datetime,
    due: datetime | None,
    by: str,
) -> list[NoticeRecord]:
    no = book.application.application_no
    return [
        NoticeRecord(
            id=notice_id(no, kind, d, round_no),
            application_no=no,
            kind=kind,  # type: ignore[arg-type]  # checked against the table's kinds
            department=d,
            unit=book.application.profile.unit,
            round=round_no,
            issued_at=at,
            due_at=due,
            issued_by=by,
        )
        for d in departments
    ]


def check_answer(
    book: ApplicationLedger,
    notices: Sequence[NoticeRecord],
    notice: str,
    result: str,
    opinion: str | None,
) -> Refusal | None:
    if book.state != "running":
        return Refusal.one("closed", "application_no", f"the application is {book.state}")
    found = next((n for n in notices if n.id == notice), None)
    if found is None:
        return Refusal.one("conflict", "notice_id", "the application has no such notice")
    if found.state != "open":
        return Refusal.one("closed", "notice_id", f"the notice is {found.state}")
    if result == "rejected" and not (opinion or "").strip():
        return Refusal.one("invalid", "opinion", "a rejection gives the department's opinion")
    return None


def is_issued_repeat(book: ApplicationLedger, event: str) -> bool:
    """A manual `<kind>.started` while the kind's clock runs from a notice's issue: the same
    start again (accepted, not recorded twice)."""
    code, _, suffix = event.rpartition(".")
    if suffix != "started":
        return False
    last = book.last_event_of(code)
    return last is not None and last.event == event and last.actor == ISSUED_BY


def start_event(kind: str, at: datetime, by: str | None, note: str) -> RecordedEvent:
    return RecordedEvent(
        event=f"{kind}.started", at=at, by=by, note=note, recorded_at=at, actor=ISSUED_BY
    )
