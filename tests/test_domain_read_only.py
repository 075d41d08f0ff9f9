"""What the workflow's `status` query and its update validators call leaves the ledger exactly as
it was: no cache filled, no field written (Temporal's rule for queries and validators)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from contracts.application import CancelRequest, HoldRequest, RecordEventRequest
from domain import rules
from domain.answers import status
from domain.ledger import ApplicationLedger
from domain.refusals import Refused
from domain.start import start_input
from policies.codes import PAUSE_EVENT, RESUME_EVENT
from tests.scenarios import application

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=TZ)
OURS = ("domain.", "policies.", "contracts.")


def freeze(value: Any, seen: set[int] | None = None) -> Any:
    """A value that compares equal only if nothing reachable from `value` in the project's own
    objects changed: contents, and the identity of every container and model (replacing a
    cached object by another is a write too). Other libraries' objects count by identity."""
    seen = set() if seen is None else seen
    if value is None or isinstance(value, str | int | float | bool | datetime | timedelta):
        return value
    if id(value) in seen:
        return ("seen", id(value))
    seen.add(id(value))
    if isinstance(value, BaseModel):
        return (type(value).__name__, id(value), value.model_dump())
    if isinstance(value, list | tuple):
        return (type(value).__name__, id(value), tuple(freeze(v, seen) for v in value))
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: repr(kv[0]))
        return ("dict", id(value), tuple((repr(k), freeze(v, seen)) for k, v in items))
    if isinstance(value, set | frozenset):
        return (type(value).__name__, id(value), frozenset(value))
    if type(value).__module__.startswith(OURS):
        slots = getattr(type(value), "__slots__", ())
        fields = (
            vars(value) if hasattr(value, "__dict__") else {s: getattr(value, s) for s in slots}
        )
        attrs = tuple((name, freeze(v, seen)) for name, v in sorted(fields.items()))
        return (type(value).__name__, id(value), attrs)
    return (type(value).__name__, id(value))


def snapshot(book: ApplicationLedger) -> dict[str, Any]:
    return {name: freeze(v) for name, v in vars(book).items()}


@pytest.fixture
def book() -> ApplicationLedger:
    """An application some way in, judged by the run path (caches filled)."""
    b = ApplicationLedger(start_input(application("READ0001", T0)), T0)
    for i, name in enumerate(["site_survey.started", "site_survey.completed"]):
        at = T0 + timedelta(hours=i + 1)
        b.add_event(rules.check_event(b, RecordEventRequest(event=name), at))
        b.sync(at)
    return b


def test_the_status_query_writes_nothing(book: ApplicationLedger) -> None:
    before = snapshot(book)
    last = T0 + timedelta(hours=2)
    # At the instant judged last (the usual query), and at a later one (computed afresh).
    for at in (last, last + timedelta(days=3)):
        answer = status(book, book.peek(at))
        assert answer.as_of == at
    assert snapshot(book) == before


def test_the_validators_write_nothing(book: ApplicationLedger) -> None:
    before = snapshot(book)
    now = T0 + timedelta(days=1)
    rules.check_event(book, RecordEventRequest(event="plan_reply.completed"), now)
    rules.check_event(book, RecordEventRequest(event="completion_inspection.started"), now)
    for refused in ("energize.completed", "warp_drive.started", "site_survey.completed"):
        with pytest.raises(Refused):
            rules.check_event(book, RecordEventRequest(event=refused), now)
    rules.check_hold(book, PAUSE_EVENT, HoldRequest(reason="customer away"), now)
    with pytest.raises(Refused):
        rules.check_hold(book, RESUME_EVENT, HoldRequest(reason="customer back"), now)
    rules.check_cancel(book)
    assert snapshot(book) == before


def test_the_snapshot_sees_what_the_run_path_writes(book: ApplicationLedger) -> None:
    """The comparison above can fail: evaluating on the run path fills the caches."""
    before = snapshot(book)
    book.evaluate(T0 + timedelta(days=3))
    assert snapshot(book) != before
    before = snapshot(book)
    book.cancel(CancelRequest(reason="customer withdrew"), T0 + timedelta(days=3))
    assert snapshot(book) != before
