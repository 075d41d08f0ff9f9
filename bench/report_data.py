"""Read-model data for the report benchmark and tests: applications lived through by the real
application book (domain.ledger, as the workflow does: events, holds, thresholds firing when
due, the close) and written as the projection writes them.

A few dozen lifecycles are simulated ("templates": units, business types and durations drawn
at random); many applications are then copies of them moved in time by whole weeks, each
under its own number. A copy keeps its template's judgements (warnings, outcomes), which a
holiday on another week might have changed: right for timing reports, not for checking one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from contracts.application import (
    ApplicationInput,
    ApplicationProfile,
    Customer,
    HoldRequest,
    ProjectionInput,
    RecordEventRequest,
)
from domain.ledger import ApplicationLedger
from domain.rules import check_event, check_hold
from domain.start import start_input
from domain.views import projection_input, row
from readmodel.projection import (
    APPLICATION,
    TIMELINE,
    WARNING,
    _application_row,
    _timeline_rows,
    _warning_rows,
)
from readmodel.report_facts_writer import FACTS, MONITORS, application_facts, monitor_facts

TZ = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WEEK = timedelta(weeks=1)

#: (unit, business type, voltage, capacity kVA, share of the applications)
KINDS: list[tuple[str, str, str, float, float]] = [
    ("henan/sanmenxia", "lv_residential", "220V", 8, 0.25),
    ("henan/sanmenxia", "lv_non_residential", "380V", 60, 0.10),
    ("henan/sanmenxia", "hv", "10kV", 630, 0.10),
    ("henan/xinyang/huangchuan", "lv_residential", "220V", 8, 0.15),
    ("henan/xinyang/huangchuan", "hv", "10kV", 800, 0.05),
    ("shanghai", "lv_small_micro", "380V", 50, 0.10),
    ("shanghai", "hv", "10kV", 1000, 0.05),
    ("shanghai", "hv", "35kV", 8000, 0.02),
    ("shandong/yantai", "lv_non_residential", "380V", 80, 0.10),
    ("shandong/yantai", "hv", "10kV", 630, 0.08),
]


def lv_events(rng: random.Random, t0: datetime) -> list[tuple[str, datetime]]:
    survey = t0 + rng.uniform(1, 30) * HOUR
    installed = survey + rng.uniform(2, 70) * HOUR
    return [
        ("appointment_confirm.started", t0 - rng.uniform(2, 20) * HOUR),
        ("appointment_confirm.completed", t0 + rng.choice([0.2, 0.5, 20.0]) * HOUR),
        ("site_survey.completed", survey),
        ("meter_install.completed", installed),
        ("terminal_commissioning.started", installed + HOUR),
        ("terminal_commissioning.completed", installed + rng.uniform(2, 40) * HOUR),
        ("archive.started", installed + 41 * HOUR),
        ("archive.completed", installed + rng.uniform(42, 80) * HOUR),
    ]


def hv_events(rng: random.Random, t0: datetime) -> list[tuple[str, datetime]]:
    t = t0 + rng.uniform(3, 30) * HOUR
    out = [("site_survey.started", t), ("site_survey.completed", t + rng.uniform(1, 20) * HOUR)]
    t = out[-1][1] + rng.uniform(1, 14) * DAY
    out.append(("plan_reply.completed", t))
    if rng.random() < 0.2:
        # A customer-caused hold: the clocks stand still for a week or two.
        out += [("pause", t + HOUR), ("resume", t + rng.uniform(5, 15) * DAY)]
        t = out[-1][1]
    works = t + rng.uniform(1, 3) * DAY
    t = works + rng.uniform(10, 60) * DAY
    out += [("customer_works.started", works), ("customer_works.completed", t)]
    t += rng.uniform(1, 48) * HOUR
    inspected = t + rng.choice([2.0, 6.0, 26.0]) * HOUR
    out += [("completion_inspection.started", t), ("completion_inspection.completed", inspected)]
    out += [
        ("contract.completed", inspected + 2 * HOUR),
        ("meter_install.completed", inspected + 4 * HOUR),
        ("dispatch_agreement.completed", inspected + DAY),
    ]
    energized = inspected + rng.uniform(1.1, 5) * DAY
    out.append(("energize.completed", energized))
    out += [
        ("terminal_commissioning.started", energized + HOUR),
        ("terminal_commissioning.completed", energized + DAY),
        ("archive.started", energized + DAY + HOUR),
        ("archive.completed", energized + rng.uniform(2, 4) * DAY),
    ]
    return out


def live(inp: ApplicationInput, events: list[tuple[str, datetime]]) -> ProjectionInput:
    """The application's last projection after its events, as the workflow would write it:
    each threshold fires at its due instant, each event is checked as the update would be."""
    now = inp.profile.accepted_at
    book = ApplicationLedger(start_input(inp), now)
    ev, _ = book.sync(now)
    for name, at in events:
        while ev.next_due_at is not None and ev.next_due_at < at and book.state == "running":
            now = ev.next_due_at
            ev, _ = book.sync(now)
        if name in ("pause", "resume"):
            rec = check_hold(book, name, HoldRequest(reason="客户原因", at=at), at)
        else:
            rec = check_event(book, RecordEventRequest(event=name, at=at), at)
        book.add_event(rec)
        now = at
        ev, _ = book.sync(now)
    return projection_input(book, row(book, ev), now, 0, list(book.timeline), list(book.warnings))


@dataclass
class Template:
    """One lived application as the rows the projection writes."""

    application: dict[str, Any]
    timeline: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    facts: list[dict[str, Any]]
    monitors: list[dict[str, Any]]


def template(projection: ProjectionInput) -> Template:
    """The rows of a whole life at once (the final status: its full timeline)."""
    final = projection.final_status
    entries = final.timeline if final is not None else projection.timeline
    facts = application_facts(projection, entries)
    return Template(
        # The final status itself is left out: no report reads it, and it would make the
        # database many times larger.
        application={**_application_row(projection), "final_status": None},
        timeline=_timeline_rows(projection),
        warnings=_warning_rows(projection),
        facts=[facts] if facts is not None else [],
        monitors=monitor_facts(final, projection) if final is not None else [],
    )


def templates(n: int, first_day: datetime, seed: int = 11, running: bool = False) -> list[Template]:
    """`n` lived applications accepted in the week from `first_day`; `running` ones stop
    before the meter installation."""
    rng = random.Random(seed)
    weights = [k[4] for k in KINDS]
    out = []
    for i in range(n):
        unit, business_type, voltage, kva, _ = rng.choices(KINDS, weights)[0]
        t0 = first_day + timedelta(days=rng.randrange(5), hours=rng.uniform(8, 17))
        make = hv_events if business_type == "hv" else lv_events
        events = make(rng, t0)
        if running:
            events = events[:3]
        inp = ApplicationInput(
            application_no=f"T{seed}-{i:04d}",
            profile=ApplicationProfile(
                unit=unit,
                business_type=business_type,
                voltage=voltage,
                capacity_kva=kva,
                accepted_at=t0,
                # Appointments (预约) come by phone or online; the counter has none.
                channel="phone" if business_type != "hv" else "counter",
            ),
            customer=Customer(name="基准客户", phone="13800000000"),
            customer_manager=f"cm-{rng.randrange(40):03d}",
        )
        out.append(template(live(inp, events)))
    return out


_INSTANTS = ("accepted_at", "updated_at", "next_due_at", "at", "due_at", "raised_at")
_SECONDS = (
    "accepted_s", "energized_s", "installed_s", "connected_s", "closed_s", "started_s",
    "stopped_s",
)  # fmt: skip


def _moved(row: dict[str, Any], shift: timedelta, no: str) -> dict[str, Any]:
    out = dict(row)
    out["application_no"] = no
    for key in _INSTANTS:
        value = out.get(key)
        if value is not None:
            out[key] = value + shift
    seconds = int(shift.total_seconds())
    for key in _SECONDS:
        value = out.get(key)
        if value is not None:
            out[key] = value + seconds
    return out


@dataclass
class Batch:
    applications: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    facts: list[dict[str, Any]]
    monitors: list[dict[str, Any]]


def copies(
    pool: list[Template], count: int, weeks: int, prefix: str, seed: int = 5, batch: int = 5000
) -> Iterator[Batch]:
    """`count` applications, each a template of `pool` moved by 0..weeks-1 whole weeks."""
    rng = random.Random(seed)
    for lo in range(0, count, batch):
        b = Batch([], [], [], [], [])
        for i in range(lo, min(lo + batch, count)):
            t = pool[rng.randrange(len(pool))]
            shift = WEEK * rng.randrange(weeks)
            no = f"{prefix}{i:07d}"
            b.applications.append(_moved(t.application, shift, no))
            b.timeline.extend(_moved(r, shift, no) for r in t.timeline)
            b.warnings.extend(_moved(r, shift, no) for r in t.warnings)
            b.facts.extend(_moved(r, shift, no) for r in t.facts)
            b.monitors.extend(_moved(r, shift, no) for r in t.monitors)
        yield b


def insert(engine: Engine, batches: Iterator[Batch]) -> int:
    n = 0
    for b in batches:
        with engine.begin() as conn:
            for table, rows in (
                (APPLICATION, b.applications),
                (TIMELINE, b.timeline),
                (WARNING, b.warnings),
                (FACTS, b.facts),
                (MONITORS, b.monitors),
            ):
                if rows:
                    conn.execute(table.insert(), rows)
        n += len(b.applications)
    return n
