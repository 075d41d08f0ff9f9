"""The rules that refuse a change, one row each, without Temporal: each row sets up an
application, proposes one change and names the rule that must refuse it, with the refusal's
type, field and reason."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contracts.application import CancelRequest, HoldRequest, RecordEventRequest
from contracts.errors import RefusalType
from domain import rules
from domain.ledger import ApplicationLedger
from domain.refusals import Refused
from domain.start import start_input
from policies.codes import PAUSE_EVENT, RESUME_EVENT
from tests.scenarios import application

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=TZ)  # a Tuesday
NOW = T0 + timedelta(days=1)
HOUR = timedelta(hours=1)

#: What happened before the proposed change: (event or pause/resume/cancel, at).
Setup = list[tuple[str, datetime]]


def ledger(setup: Setup) -> ApplicationLedger:
    """A 10 kV application accepted at T0, with `setup` recorded through the rules."""
    book = ApplicationLedger(start_input(application("RULE0001", T0)), T0)
    for name, at in setup:
        if name == "cancel":
            book.cancel(CancelRequest(reason="customer withdrew"), at)
        elif name in (PAUSE_EVENT, RESUME_EVENT):
            book.add_event(rules.check_hold(book, name, HoldRequest(reason="customer"), at))
        else:
            book.add_event(rules.check_event(book, RecordEventRequest(event=name), at))
        book.sync(at)
    return book


@dataclass(frozen=True)
class Row:
    rule: Callable[..., object]
    setup: Setup
    #: The change proposed at NOW.
    propose: Callable[[ApplicationLedger], object]
    type: RefusalType
    field: str
    reason: str


def event(name: str, at: datetime | None = None) -> Callable[[ApplicationLedger], object]:
    return lambda book: rules.check_event(book, RecordEventRequest(event=name, at=at), NOW)


def hold(kind: str, at: datetime | None = None) -> Callable[[ApplicationLedger], object]:
    return lambda book: rules.check_hold(book, kind, HoldRequest(reason="customer", at=at), NOW)


def cancel(book: ApplicationLedger) -> None:
    rules.check_cancel(book)


ROWS: dict[str, Row] = {
    "event: the application is closed": Row(
        rules.application_running,
        [("cancel", T0 + HOUR)],
        event("plan_reply.completed"),
        "closed",
        "application_no",
        "the application is cancelled",
    ),
    "event: in the future": Row(
        rules.not_in_future,
        [],
        event("plan_reply.completed", NOW + HOUR),
        "invalid",
        "at",
        "is in the future",
    ),
    "event: unknown": Row(
        rules.event_known, [], event("warp_drive.started"), "invalid", "event", "unknown event"
    ),
    "event: before the acceptance": Row(
        rules.not_before_acceptance,
        [],
        event("plan_reply.completed", T0 - HOUR),
        "invalid",
        "at",
        "is before the acceptance",
    ),
    # Design review is only for important customers in Sanmenxia.
    "event: a stage that does not apply": Row(
        rules.stage_applies,
        [],
        event("design_review.started"),
        "invalid",
        "event",
        "does not apply to this application (hv, 10kV)",
    ),
    "event: before the stage's last event": Row(
        rules.after_the_stage_s_last_event,
        [("site_survey.started", T0 + 5 * HOUR)],
        event("site_survey.completed", T0 + 2 * HOUR),
        "conflict",
        "at",
        "is before the previous site_survey.started",
    ),
    "event: started twice": Row(
        rules.not_started_twice,
        [("site_survey.started", T0 + HOUR)],
        event("site_survey.started"),
        "conflict",
        "event",
        "site_survey has already started",
    ),
    "event: completed twice": Row(
        rules.not_completed_twice,
        [("site_survey.started", T0 + HOUR), ("site_survey.completed", T0 + 2 * HOUR)],
        event("site_survey.completed"),
        "conflict",
        "event",
        "site_survey is already completed; record site_survey.started to reopen it",
    ),
    # Energization waits for inspection, contract and dispatch agreement first.
    "event: completed before its clock started": Row(
        rules.clock_started,
        [],
        event("energize.completed"),
        "conflict",
        "event",
        "wrong order: energize cannot complete before",
    ),
    "hold: the application is closed": Row(
        rules.application_running,
        [("cancel", T0 + HOUR)],
        hold(PAUSE_EVENT),
        "closed",
        "application_no",
        "the application is cancelled",
    ),
    "hold: in the future": Row(
        rules.not_in_future, [], hold(PAUSE_EVENT, NOW + HOUR), "invalid", "at", "in the future"
    ),
    "hold: paused twice": Row(
        rules.hold_changes_the_clock,
        [(PAUSE_EVENT, T0 + HOUR)],
        hold(PAUSE_EVENT),
        "conflict",
        "paused",
        "the clock is already paused",
    ),
    "hold: resumed while running": Row(
        rules.hold_changes_the_clock,
        [],
        hold(RESUME_EVENT),
        "conflict",
        "paused",
        "the clock is not paused",
    ),
    "hold: before the last event": Row(
        rules.after_the_last_event,
        [("site_survey.started", T0 + 5 * HOUR)],
        hold(PAUSE_EVENT, T0 + 2 * HOUR),
        "conflict",
        "at",
        "is before the last recorded event (site_survey.started at",
    ),
    "hold: before the acceptance": Row(
        rules.hold_not_before_acceptance,
        [],
        hold(PAUSE_EVENT, T0 - HOUR),
        "invalid",
        "at",
        "is before the acceptance",
    ),
    "cancel: the application is closed": Row(
        rules.application_running,
        [("cancel", T0 + HOUR)],
        cancel,
        "closed",
        "application_no",
        "the application is cancelled",
    ),
}


@pytest.mark.parametrize("name", list(ROWS))
def test_each_rule_refuses_with_its_type_field_and_reason(name: str) -> None:
    row = ROWS[name]
    book = ledger(row.setup)
    with pytest.raises(Refused) as info:
        row.propose(book)
    refusal = info.value.refusal
    assert refusal.type == row.type
    assert [e.field for e in refusal.errors] == [row.field]
    assert row.reason in refusal.errors[0].reason, refusal.errors[0].reason
    assert str(info.value) == refusal.message


def test_every_rule_has_a_row() -> None:
    """A rule added to domain.rules gets a row here."""
    defined = {
        fn
        for _, fn in inspect.getmembers(rules, inspect.isfunction)
        if fn.__module__ == rules.__name__ and fn.__annotations__.get("return") == "Refusal | None"
    }
    assert defined == {row.rule for row in ROWS.values()}


def test_a_change_no_rule_refuses_is_returned_as_recorded() -> None:
    book = ledger([("site_survey.started", T0 + HOUR)])
    recorded = rules.check_event(
        book, RecordEventRequest(event="site_survey.completed", by="cm-001"), NOW
    )
    assert (recorded.event, recorded.at, recorded.by, recorded.recorded_at) == (
        "site_survey.completed",
        NOW,
        "cm-001",
        NOW,
    )
    paused = rules.check_hold(book, PAUSE_EVENT, HoldRequest(reason="customer away"), NOW)
    assert (paused.event, paused.reason) == (PAUSE_EVENT, "customer away")
    rules.check_cancel(book)


def test_a_few_minutes_ahead_is_now_not_the_future() -> None:
    book = ledger([])
    ahead = NOW + timedelta(minutes=4)
    recorded = rules.check_event(
        book, RecordEventRequest(event="site_survey.started", at=ahead), NOW
    )
    assert recorded.at == ahead
