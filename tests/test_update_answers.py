"""What an update answers, from the domain alone (no Temporal): only what the change
moved, so an answer stays small however long the application runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from contracts.application import CancelRequest, RecordEventRequest, UpdateResult
from domain.answers import brief
from domain.ledger import ApplicationLedger
from domain.rules import check_event
from domain.start import start_input
from tests.scenarios import application

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=TZ)  # a Tuesday


def book() -> ApplicationLedger:
    b = ApplicationLedger(start_input(application("ANS0001", T0)), T0)
    b.sync(T0)
    return b


def record(b: ApplicationLedger, event: str, at: datetime) -> UpdateResult:
    """As the workflow's handler does: check, add, judge, answer."""
    rec = check_event(b, RecordEventRequest(event=event), at)
    b.add_event(rec)
    ev, _ = b.sync(at)
    return brief(b, ev, rec)


def lines(b: ApplicationLedger, at: datetime) -> dict[str, tuple[object, ...]]:
    return {m.id: (m.state, m.level, m.next_due_at) for m in b.evaluate(at).monitors}


def test_an_answer_lists_exactly_the_monitors_its_event_moved() -> None:
    b = book()
    at = T0 + timedelta(hours=2)
    before = lines(b, at)
    answer = record(b, "plan_reply.completed", at)
    after = lines(b, at)
    moved = {k for k in after if after[k] != before[k]}
    assert moved and {m.id for m in answer.changed_monitors} == moved
    assert len(answer.changed_monitors) < len(after)


def test_a_second_answer_at_the_same_instant_moved_nothing() -> None:
    b = book()
    at = T0 + timedelta(hours=2)
    first = record(b, "completion_inspection.started", at)
    assert first.changed_monitors
    # Another update judged at the same instant, adding no event (a cancel right after).
    b.cancel(CancelRequest(reason="customer withdrew", by="cm-001"), at)
    ev, _ = b.sync(at)
    second = brief(b, ev)
    assert second.changed_monitors == [] and second.too_short == []


def test_a_too_short_flag_is_answered_once() -> None:
    b = book()
    record(b, "completion_inspection.started", T0 + timedelta(days=1))
    done = record(b, "completion_inspection.completed", T0 + timedelta(days=1, hours=2))
    assert [f.monitor for f in done.too_short] == ["hv.completion_inspection"]
    later = record(b, "contract.completed", T0 + timedelta(days=2))
    assert later.too_short == [] and len(b.too_short) == 1
