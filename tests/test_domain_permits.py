"""The outside line's approvals as pure decisions (domain.permits), without Temporal: which
result is kept, what the stage waits for, when it opens and closes, and that the wait opened
on each pack's plan is timed by that pack's monitor (003 LV 5 / ≤ 10 kV 10 working days, 004 2
working days above 300 m, exempt at 300 m and under)."""

from __future__ import annotations

import typing
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from contracts.application import ApplicationInput, Customer, RecordEventRequest
from contracts.permits import PermitKind, PermitResult, RecordPermitRequest
from contracts.plans import PlanRecord
from domain.answers import status
from domain.ledger import ApplicationLedger
from domain.permits import (
    COMPLETED,
    STARTED,
    after_result,
    check_permit,
    closes,
    kept,
    mark_of,
    opens,
    permits_status,
    required_permits,
    waiting_for,
)
from domain.refusals import Refused
from domain.rules import check_event
from domain.start import start_input
from policies.codes import PERMIT_KINDS
from policies.loader import load_policy
from policies.plans.engine import plan as make_plan
from policies.plans.request import PlanRequest
from policies.plans.resources import GridSnapshot
from policies.profile import ApplicationProfile

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 21, 10, 0, tzinfo=TZ)


def r(kind: str, result: str, hours: int = 0) -> PermitResult:
    return PermitResult.model_validate(
        {"kind": kind, "result": result, "decided_at": T0 + timedelta(hours=hours)}
    )


def test_the_contract_s_kinds_are_the_codes() -> None:
    assert typing.get_args(PermitKind) == PERMIT_KINDS


def test_the_latest_result_of_a_kind_wins() -> None:
    results = [r("greenery", "rejected", 1)]
    assert kept(results, r("greenery", "approved", 0)) is None  # older: superseded
    assert kept(results, r("greenery", "approved", 1)) is None  # the same again
    assert kept(results, r("greenery", "approved", 2)) == [r("greenery", "approved", 2)]
    both = kept(results, r("road_excavation", "approved", 0))
    assert both is not None and len(both) == 2


def test_every_listed_kind_must_be_approved_and_no_kind_rejected() -> None:
    listed = ("road_excavation", "greenery")
    one = [r("road_excavation", "approved")]
    assert waiting_for(listed, one) == ["greenery"]
    assert not closes(listed, one, "started")
    both = [*one, r("greenery", "approved")]
    assert waiting_for(listed, both) == [] and closes(listed, both, "started")
    # A kind the plan does not list, rejected, still holds the stage open.
    assert waiting_for(listed, [*both, r("road_occupation", "rejected")]) == ["road_occupation"]
    # No kind named: the results in hand, at least one and none rejected.
    assert waiting_for((), []) == ["approval"]
    assert waiting_for((), one) == []
    assert waiting_for((), [*one, r("greenery", "rejected")]) == ["greenery"]
    # Only an open stage closes.
    assert not closes(listed, both, None) and not closes(listed, both, "completed")


def test_what_a_result_records() -> None:
    listed = ("road_excavation", "greenery")
    no = r("greenery", "rejected")
    assert after_result(no, listed, [no], None) == STARTED
    assert after_result(no, listed, [no], "started") is None  # open already: returned only
    assert after_result(no, listed, [no], "completed") == STARTED  # reopened
    yes = r("greenery", "approved")
    assert after_result(yes, listed, [yes], "started") is None
    both = [yes, r("road_excavation", "approved")]
    assert after_result(yes, listed, both, "started") == COMPLETED
    assert after_result(yes, listed, both, None) is None  # kept until the stage opens


def book_for(unit: str, business_type: str, voltage: str, length: float) -> ApplicationLedger:
    profile = ApplicationProfile(
        unit=unit,
        business_type=business_type,
        voltage=voltage,
        capacity_kva=50 if voltage == "380V" else 630,
        accepted_at=T0,
        outside_line_m=length,
    )
    inp = ApplicationInput(
        application_no="PERMIT-1", profile=profile, customer=Customer(name="测试客户")
    )
    book = ApplicationLedger(start_input(inp), T0)
    request = PlanRequest.from_profile(profile, permits=("greenery",))
    plan = make_plan(request, GridSnapshot(), load_policy(unit))
    record = PlanRecord(
        version=1, kind="supply", trigger="accept.started", state="proposed", made_at=T0, plan=plan
    )
    book.adopt_plan(record, T0)
    return book


@pytest.mark.parametrize(
    ("unit", "business_type", "voltage", "length", "monitor"),
    [
        ("jilin-local", "lv_non_residential", "380V", 120, ("lv.admin_approval", 5)),
        ("jilin-local", "hv", "10kV", 120, ("hv.admin_approval", 10)),
        ("shandong/yantai", "lv_non_residential", "380V", 450, ("admin_approval.parallel", 2)),
        ("shandong/yantai", "lv_non_residential", "380V", 300, None),
    ],
)
def test_the_wait_opens_on_the_pack_s_plan_with_the_pack_s_limit(
    unit: str, business_type: str, voltage: str, length: float, monitor: tuple[str, int] | None
) -> None:
    book = book_for(unit, business_type, voltage, length)
    required = required_permits(book.plan)
    if monitor is None:
        # Exempt (004 一.5, 300 m and under): nothing opens, no monitor, a result is refused.
        assert required is None and not opens(required, book.skipped, mark_of(book))
        view = permits_status(book.plan, book.skipped, None, [])
        assert view is not None and view.stage == "not_applicable" and not view.required
        req = RecordPermitRequest(kind="greenery", result="approved", decided_at=T0)
        with pytest.raises(Refused) as exc:
            check_permit(book, req, T0 + timedelta(hours=1))
        assert "does not apply" in exc.value.refusal.message
        return
    assert required == ("greenery",)
    assert opens(required, book.skipped, mark_of(book))
    at = T0 + timedelta(hours=1)
    book.add_event(check_event(book, RecordEventRequest(event=STARTED, at=at), at))
    assert mark_of(book) == "started"
    shown = status(book, book.evaluate(at))
    limits = [
        (m.id, m.provincial_limit.amount)
        for m in shown.monitors
        if m.code == "admin_approval" and m.provincial_limit is not None
    ]
    assert limits == [monitor]
    view = permits_status(book.plan, book.skipped, "started", [])
    assert view is not None and view.stage == "waiting" and view.waiting_for == ["greenery"]
    assert [(p.kind, p.state) for p in view.permits] == [("greenery", "pending")]


def test_an_exempt_line_lists_no_permit_whatever_was_named() -> None:
    book = book_for("shandong/yantai", "lv_non_residential", "380V", 150)
    assert book.plan is not None and book.plan.plan is not None
    assert book.plan.plan.admin_approval.permits == ()
