"""The projection activity writes the read model idempotently: a retry or a replay of the same
write changes nothing, an older write never moves a row backwards, and the final status
written at the close survives later ordinary writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from activities.projection import APPLICATION, ProjectionActivities, _application_row
from contracts.application import (
    ApplicationProfile,
    ApplicationStatus,
    Customer,
    ProjectionInput,
    RaisedWarning,
    TimelineEntry,
)
from readmodel.applications import ApplicationRow, TimelineRow, WarningRow

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 9, 28, 9, 0, tzinfo=CST)
PROFILE = ApplicationProfile(
    unit="henan/sanmenxia", business_type="hv", voltage="10kV", capacity_kva=630, accepted_at=T0
)


def write(
    engine: Engine,
    *,
    at: datetime,
    stage: str,
    offset: int = 0,
    timeline: list[TimelineEntry] | None = None,
    warnings: list[RaisedWarning] | None = None,
    final: bool = False,
) -> None:
    data = ProjectionInput(
        application_no="P-0001",
        profile=PROFILE,
        customer=Customer(name="测试客户", phone="13800000000"),
        customer_manager="cm01",
        state="completed" if final else "running",
        stage=stage,
        updated_at=at,
        timeline_offset=offset,
        timeline=timeline or [],
        warnings=warnings or [],
        final_status=(
            ApplicationStatus(
                application_no="P-0001", state="completed", stage=stage, profile=PROFILE
            )
            if final
            else None
        ),
    )
    ProjectionActivities(engine).project_application(data)


def counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as s:
        return tuple(
            s.exec(select(func.count()).select_from(t)).one()[0]  # type: ignore[call-overload]
            for t in (ApplicationRow, TimelineRow, WarningRow)
        )


def row(engine: Engine) -> ApplicationRow:
    with Session(engine) as s:
        found = s.get(ApplicationRow, "P-0001")
        assert found is not None
        s.expunge(found)
        return found


ENTRIES = [
    TimelineEntry(at=T0, event="accept.started"),
    TimelineEntry(at=T0 + timedelta(hours=1), event="joint_survey.started", by="s01"),
]
WARNING = RaisedWarning(
    monitor="hv.plan_reply",
    code="plan_reply",
    level="blue",
    due_at=T0 + timedelta(days=8),
    raised_at=T0 + timedelta(days=8),
    roles=["customer_manager"],
)


def test_the_same_write_twice_writes_once(any_engine: Engine) -> None:
    for _ in range(2):
        write(any_engine, at=T0, stage="joint_survey", timeline=ENTRIES, warnings=[WARNING])
    assert counts(any_engine) == (1, 2, 1)
    r = row(any_engine)
    assert (r.stage, r.customer_name, r.accepted_at) == ("joint_survey", "测试客户", T0)


def test_timeline_continues_from_its_offset_and_ignores_repeats(any_engine: Engine) -> None:
    write(any_engine, at=T0, stage="accept", timeline=ENTRIES[:1])
    more = [TimelineEntry(at=T0 + timedelta(hours=2), event="site_survey.started")]
    # A replay from the start resends entry 0 and 1 (offset 0); then entry 2 arrives.
    write(any_engine, at=T0 + timedelta(hours=1), stage="joint_survey", timeline=ENTRIES)
    write(any_engine, at=T0 + timedelta(hours=2), stage="site_survey", offset=2, timeline=more)
    with Session(any_engine) as s:
        seqs = s.exec(select(TimelineRow.seq, TimelineRow.event)).all()  # type: ignore[call-overload]
    assert sorted(tuple(x) for x in seqs) == [
        (0, "accept.started"),
        (1, "joint_survey.started"),
        (2, "site_survey.started"),
    ]


def test_an_older_write_arriving_late_does_not_move_the_row_back(any_engine: Engine) -> None:
    write(any_engine, at=T0 + timedelta(hours=2), stage="site_survey")
    write(any_engine, at=T0 + timedelta(hours=1), stage="joint_survey")
    assert row(any_engine).stage == "site_survey"


def test_a_warning_is_closed_in_place(any_engine: Engine) -> None:
    write(any_engine, at=T0, stage="plan_reply", warnings=[WARNING])
    closed = WARNING.model_copy(update={"open": False})
    write(any_engine, at=T0 + timedelta(days=9), stage="plan_reply", warnings=[closed])
    assert counts(any_engine) == (1, 0, 1)
    with Session(any_engine) as s:
        assert s.exec(select(WarningRow.open)).one()[0] is False  # type: ignore[call-overload]


def test_the_final_status_survives_a_replayed_ordinary_write(any_engine: Engine) -> None:
    write(any_engine, at=T0 + timedelta(days=30), stage="archive", final=True)
    # Same instant, as a replay after the close would send it, but without the final status.
    write(any_engine, at=T0 + timedelta(days=30), stage="archive")
    r = row(any_engine)
    assert r.final_status is not None and r.final_status["state"] == "completed"


def test_every_column_is_written() -> None:
    """A column added to the table but not to the row would be cleared on every upsert."""
    data = ProjectionInput(
        application_no="P-0001",
        profile=PROFILE,
        customer=Customer(name="x"),
        customer_manager=None,
        state="running",
        stage="accept",
        updated_at=T0,
    )
    assert set(_application_row(data)) == {c.name for c in APPLICATION.columns} - {"final_status"}
