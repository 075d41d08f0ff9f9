"""The rules that refuse a change to an application, one function each.

Each rule reads the ledger and the proposed change and answers a Refusal (which field, why,
and whether the request is invalid, conflicts with the application's state, or comes after it
closed) or None. `check_event`, `check_hold` and `check_cancel` ask them in order and raise the
first refusal (`Refused`); they write nothing, so the workflow's update validators call them as
they are, and its handlers call them again (validators do not run on replay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts.application import (
    CLOCK_SKEW,
    HoldRequest,
    RecordedEvent,
    RecordEventRequest,
)
from contracts.errors import Refusal
from domain.coordination import is_issued_repeat
from domain.ledger import ApplicationLedger
from domain.refusals import Refused
from policies.codes import PAUSE_EVENT, RESUME_EVENT
from policies.engine import known_event

# Stages whose events may precede acceptance (the appointment comes first on online channels).
BEFORE_ACCEPTANCE = frozenset({"appointment_confirm"})


@dataclass(frozen=True)
class Proposed:
    """A stage event as staff propose it: `<code>.<suffix>` at `at`, the code's alias
    resolved to the policy's code."""

    name: str
    code: str
    suffix: str
    at: datetime


def _raise_first(*refusals: Refusal | None) -> None:
    for refusal in refusals:
        if refusal is not None:
            raise Refused(refusal)


# -- rules for every change ----------------------------------------------------------------------


def application_running(book: ApplicationLedger) -> Refusal | None:
    if book.state == "running":
        return None
    return Refusal.one("closed", "application_no", f"the application is {book.state}")


def not_in_future(at: datetime, now: datetime) -> Refusal | None:
    if at <= now + CLOCK_SKEW:
        return None
    return Refusal.one("invalid", "at", f"{at.isoformat()} is in the future")


# -- rules for a stage event ---------------------------------------------------------------------


def event_known(book: ApplicationLedger, name: str) -> Refusal | None:
    if known_event(name, book.policy):
        return None
    return Refusal.one(
        "invalid",
        "event",
        f"unknown event {name!r}: expected <stage>.started or <stage>.completed with a stage "
        "or coordination-notice code (docs/glossary.md)",
    )


def not_before_acceptance(book: ApplicationLedger, p: Proposed) -> Refusal | None:
    accepted_at = book.application.profile.accepted_at
    if p.at >= accepted_at or p.code in BEFORE_ACCEPTANCE:
        return None
    return Refusal.one(
        "invalid", "at", f"{p.at.isoformat()} is before the acceptance at {accepted_at.isoformat()}"
    )


def stage_applies(book: ApplicationLedger, p: Proposed) -> Refusal | None:
    if p.code not in book.skipped:
        return None
    profile = book.application.profile
    what = ", ".join(x for x in (profile.business_type, profile.voltage) if x)
    return Refusal.one(
        "invalid", "event", f"stage {p.code!r} does not apply to this application ({what})"
    )


def after_the_stage_s_last_event(book: ApplicationLedger, p: Proposed) -> Refusal | None:
    last = book.last_event_of(p.code)
    if last is None or p.at >= last.at:
        return None
    return Refusal.one(
        "conflict",
        "at",
        f"{p.at.isoformat()} is before the previous {last.event} at {last.at.isoformat()}",
    )


def not_started_twice(book: ApplicationLedger, p: Proposed) -> Refusal | None:
    if p.suffix != "started" or _last_suffix(book, p.code) != "started":
        return None
    if is_issued_repeat(book, p.name):
        # The notices started it: staff recording the start by hand repeat it.
        return None
    return Refusal.one("conflict", "event", f"{p.code} has already started")


def not_completed_twice(book: ApplicationLedger, p: Proposed) -> Refusal | None:
    if p.suffix != "completed" or _last_suffix(book, p.code) != "completed":
        return None
    return Refusal.one(
        "conflict",
        "event",
        f"{p.code} is already completed; record {p.code}.started to reopen it",
    )


def clock_started(book: ApplicationLedger, p: Proposed) -> Refusal | None:
    """A stage cannot complete before the events that start its clock (wrong order)."""
    if p.suffix != "completed" or _last_suffix(book, p.code) is not None:
        return None
    timed = book.clocks_started(p.code, p.at)
    if not timed or any(started for _, started in timed):
        return None
    waits_for = sorted({e for monitor, _ in timed for e in book.start_events(monitor)})
    return Refusal.one(
        "conflict",
        "event",
        f"wrong order: {p.code} cannot complete before {' and '.join(waits_for) or 'its start'}",
    )


STAGE_EVENT_RULES = (
    not_before_acceptance,
    stage_applies,
    after_the_stage_s_last_event,
    not_started_twice,
    not_completed_twice,
    clock_started,
)


def _last_suffix(book: ApplicationLedger, code: str) -> str | None:
    last = book.last_event_of(code)
    return None if last is None else last.event.rpartition(".")[2]


def check_event(book: ApplicationLedger, req: RecordEventRequest, now: datetime) -> RecordedEvent:
    """The stage event as it will be recorded, or Refused."""
    at = req.at or now
    _raise_first(application_running(book), not_in_future(at, now), event_known(book, req.event))
    code, _, suffix = req.event.rpartition(".")
    proposed = Proposed(
        name=req.event, code=book.policy.event_aliases.get(code, code), suffix=suffix, at=at
    )
    for rule in STAGE_EVENT_RULES:
        _raise_first(rule(book, proposed))
    return RecordedEvent(
        event=req.event, at=at, by=req.by, note=req.note, recorded_at=now, actor=req.actor
    )


# -- rules for a hold (pause, resume) -----------------------------------------------------------


def hold_changes_the_clock(book: ApplicationLedger, kind: str) -> Refusal | None:
    """A pause while paused, or a resume while running, clashes with the clock's state: the
    refusal names it (`paused`), as no field of the request is at fault."""
    if kind == PAUSE_EVENT and book.paused:
        return Refusal.one("conflict", "paused", "the clock is already paused")
    if kind == RESUME_EVENT and not book.paused:
        return Refusal.one("conflict", "paused", "the clock is not paused")
    return None


def after_the_last_event(book: ApplicationLedger, at: datetime) -> Refusal | None:
    if not book.events or at >= book.events[-1].at:
        return None
    last = book.events[-1]
    return Refusal.one(
        "conflict",
        "at",
        f"{at.isoformat()} is before the last recorded event "
        f"({last.event} at {last.at.isoformat()})",
    )


def hold_not_before_acceptance(book: ApplicationLedger, at: datetime) -> Refusal | None:
    accepted_at = book.application.profile.accepted_at
    if at >= accepted_at:
        return None
    return Refusal.one(
        "invalid", "at", f"{at.isoformat()} is before the acceptance at {accepted_at.isoformat()}"
    )


def check_hold(
    book: ApplicationLedger, kind: str, req: HoldRequest, now: datetime
) -> RecordedEvent:
    """The pause or resume (`kind`) as it will be recorded, or Refused."""
    at = req.at or now
    _raise_first(
        application_running(book),
        not_in_future(at, now),
        hold_changes_the_clock(book, kind),
        after_the_last_event(book, at),
        hold_not_before_acceptance(book, at),
    )
    return RecordedEvent(
        event=kind,
        at=at,
        by=req.by,
        note=req.reason,
        reason=req.reason,
        recorded_at=now,
        actor=req.actor,
    )


def check_cancel(book: ApplicationLedger) -> None:
    _raise_first(application_running(book))
