"""Shortcuts of the engine change speed, never answers: an application evaluated event by
event, at many instants, with one memo kept throughout, gets exactly what fresh evaluations
give; and `clocks_started` says what `evaluate` says of every stage's clocks."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from calendars import get_calendar
from calendars.calendar import Calendar
from policies.engine import (
    EvaluationMemo,
    Event,
    clocks_started,
    evaluate,
)
from policies.loader import load_policy
from policies.profile import ApplicationProfile, GridWorks

CST = timezone(timedelta(hours=8))
# Accepted the Friday before the National Day week: the calendar matters for every instant.
T0 = datetime(2026, 9, 25, 9, 30, tzinfo=CST)
HV = ApplicationProfile(
    unit="henan/sanmenxia",
    business_type="hv",
    voltage="10kV",
    capacity_kva=630,
    dual_power=True,
    grid_works=GridWorks(type="overhead_line", voltage="10kV"),
    accepted_at=T0,
)
LV = ApplicationProfile(
    unit="henan/sanmenxia", business_type="lv_residential", voltage="220V", accepted_at=T0
)
HV_EVENTS = [
    "joint_survey.started",
    "joint_survey.completed",
    "pause",
    "resume",
    "plan_reply.completed",
    "grid_works.started",
    "design_review.started",
    "design_review.completed",
    "pause",
    "customer_works.started",
    "resume",
    "mid_inspection.started",
    "mid_inspection.completed",
    "customer_works.completed",
    "grid_works.completed",
    "completion_inspection.started",
    "completion_inspection.completed",
    "contract.completed",
    "energize.completed",
]
LV_EVENTS = [
    "site_survey.started",
    "pause",
    "resume",
    "site_survey.completed",
    "energize.completed",
]


def lifecycle(names: list[str], seed: int) -> list[Event]:
    rng = random.Random(seed)
    at, out = T0, []
    for name in names:
        at += timedelta(hours=rng.choice([1, 5, 20, 47, 70]), minutes=rng.randrange(60))
        out.append(Event(event=name, at=at, reason="customer asked" if name == "pause" else None))
    return out


@pytest.mark.parametrize(
    ("unit", "app", "names"),
    [
        ("henan/sanmenxia", HV, HV_EVENTS),
        ("henan", HV, HV_EVENTS),
        ("shanghai", HV, HV_EVENTS),
        ("henan/sanmenxia", LV, LV_EVENTS),
    ],
)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_memo_answers_as_fresh_evaluations_do(
    unit: str, app: ApplicationProfile, names: list[str], seed: int
) -> None:
    policy = load_policy(unit)
    calendar = get_calendar("CN")
    events = lifecycle(names, seed)
    memo = EvaluationMemo()
    for i in range(len(events) + 1):
        known = events[:i]
        last = known[-1].at if known else T0
        # Before, at and after the latest event, and days later (thresholds passed meanwhile).
        for as_of in (last, last + timedelta(minutes=1), last + timedelta(days=3, hours=2)):
            fresh = evaluate(policy, calendar, app, known, as_of)
            kept = evaluate(policy, calendar, app, known, as_of, memo)
            assert kept.model_dump() == fresh.model_dump(), (i, as_of)
            for code in {m.code for m in fresh.monitors}:
                expected = sorted(
                    (m.id, m.state != "pending") for m in fresh.monitors if m.code == code
                )
                got = sorted(clocks_started(policy, app, known, code, as_of))
                assert got == expected, (code, i, as_of)


def test_memo_starts_afresh_for_another_calendar() -> None:
    policy = load_policy("henan/sanmenxia")
    official = get_calendar("CN")
    snap = official.snapshot()
    # The National Day week as working days: every working-day instant moves.
    amended = Calendar.from_snapshot(
        snap.model_copy(
            update={
                "version": "amended",
                "holidays": tuple(d for d in snap.holidays if not (d.month == 10 and d.day < 9)),
            }
        )
    )
    events = lifecycle(HV_EVENTS[:6], 1)
    as_of = events[-1].at + timedelta(days=1)
    memo = EvaluationMemo()
    before = evaluate(policy, official, HV, events, as_of, memo)
    after = evaluate(policy, amended, HV, events, as_of, memo)
    assert after.model_dump() == evaluate(policy, amended, HV, events, as_of).model_dump()
    assert after.next_due_at != before.next_due_at
