"""The notice table's inbox and summary, on a database of their own: an inbox page ends with
the answered notices however many there are, and the summary counts per department."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from contracts.coordination import NoticeRecord
from readmodel.applications import WarningRow
from readmodel.coordination import list_notices, summary, write_notices

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
UNIT = "henan/sanmenxia"
QUARTER = timedelta(days=90)


def notice(i: int, department: str, **changes: object) -> NoticeRecord:
    issued = NOW - timedelta(days=30) + timedelta(minutes=i)
    base = NoticeRecord(
        id=f"A{i:05d}.joint_survey.{department}.1",
        application_no=f"A{i:05d}",
        kind="joint_survey",
        department=department,
        unit=UNIT,
        round=1,
        issued_at=issued,
        due_at=issued + timedelta(hours=30),
    )
    return base.model_copy(update=changes)


def test_open_notices_come_first_however_many_were_answered_before(db_engine: Engine) -> None:
    db = db_engine
    answered = [
        notice(i, "dispatch", state="answered", result="agreed", answered_at=NOW, answered_by="x")
        for i in range(250)
    ]
    late = notice(900, "dispatch", due_at=NOW + timedelta(days=3))
    undated = notice(901, "dispatch", due_at=None)
    soon = notice(902, "dispatch", due_at=NOW + timedelta(hours=2))
    write_notices(db, [*answered, late, undated, soon])
    page = list_notices(db, unit="henan", department="dispatch", limit=200)
    assert len(page) == 200
    assert [n.id for n in page[:3]] == [soon.id, late.id, undated.id]
    assert {n.state for n in page[3:]} == {"answered"}


def warn(db: Engine, i: int, monitor: str, code: str) -> None:
    with Session(db) as s:
        s.add(
            WarningRow(
                application_no=f"A{i:05d}", monitor=monitor, code=code, level="blue",
                due_at=NOW + timedelta(days=3), raised_at=NOW - timedelta(hours=1),
            )
        )  # fmt: skip
        s.commit()


def test_the_summary_counts_per_department(db_engine: Engine) -> None:
    db = db_engine
    # Due soon is the notice's blue warning raised, on working hours: notice 3 is due in three
    # days (a weekend between) but warned; notice 2 is due in three hours, not warned yet.
    warn(db, 3, "notice.joint_survey", "joint_survey")
    # Another monitor's warning on its application does not make notice 7 due soon.
    warn(db, 7, "hv.plan_reply", "plan_reply")
    write_notices(
        db,
        [
            notice(1, "dispatch", due_at=NOW - timedelta(hours=1)),
            notice(2, "dispatch", due_at=NOW + timedelta(hours=3)),
            notice(3, "dispatch", due_at=NOW + timedelta(days=3)),
            notice(7, "dispatch", due_at=NOW + timedelta(days=3)),
            notice(4, "operations", state="answered", result="agreed", answered_by="x",
                   answered_at=NOW - timedelta(days=30) + timedelta(minutes=4, hours=5)),
            notice(5, "operations", state="withdrawn"),
            # Answered, but before the window: not in the answer times.
            notice(6, "operations", state="rejected", result="rejected", answered_by="x",
                   issued_at=NOW - timedelta(days=101),
                   opinion="-", answered_at=NOW - timedelta(days=100)),
        ],
    )  # fmt: skip
    rows = {d["department"]: d for d in summary(db, UNIT, NOW, QUARTER)}
    assert rows["dispatch"] == {
        "department": "dispatch", "open": 4, "due_soon": 1, "overdue": 1, "answered": 0,
        "average_answer_hours": None,
    }  # fmt: skip
    assert rows["operations"]["answered"] == 1
    assert rows["operations"]["average_answer_hours"] == 5.0
    assert summary(db, "henan/zhengzhou", NOW, QUARTER) == []
