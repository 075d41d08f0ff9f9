"""Coordination notices (协同通知): one row per notice (application, kind, department, round),
the inbox and the summary of who holds things up.

The workflow holds the notices; this table is their projection, written by the coordination
activities. A write is idempotent on the notice's id (its key) and never moves a row back:
a notice answered, rejected or withdrawn stays so, whatever a retried or replayed write says.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, func, or_
from sqlmodel import Field, Session, SQLModel, col, select

from contracts.coordination import STATE_RANK, NoticeRecord
from readmodel.applications import WarningRow
from readmodel.types import UTCDateTime

#: Warning levels, lowest first (docs/glossary.md).
LEVELS = ("blue", "yellow", "orange", "red")


class NoticeBase(SQLModel):
    application_no: str = Field(index=True, max_length=64)
    kind: str = Field(index=True, max_length=32)
    department: str = Field(index=True, max_length=32)
    unit: str = Field(index=True, max_length=128)
    round: int
    issued_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    state: str = Field(index=True, max_length=16)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by: str | None = Field(default=None, max_length=64)
    result: str | None = Field(default=None, max_length=16)
    opinion: str | None = Field(default=None, max_length=2000)
    issued_by: str | None = Field(default=None, max_length=64)


class NoticeRow(NoticeBase, table=True):
    __tablename__ = "coordination_notice"

    id: str = Field(primary_key=True, max_length=200)


class NoticePublic(NoticeBase):
    id: str
    #: The highest open warning of the notice's monitor on its application (open notices).
    level: str | None = None


def _under(q: Any, unit: str | None) -> Any:
    if unit is None:
        return q
    return q.where(
        or_(
            col(NoticeRow.unit) == unit, col(NoticeRow.unit).startswith(f"{unit}/", autoescape=True)
        )
    )


def write_notices(engine: Engine, notices: Sequence[NoticeRecord]) -> int:
    """Insert new notices and move existing ones forward; returns how many rows changed."""
    changed = 0
    with Session(engine) as s:
        for n in notices:
            row = s.get(NoticeRow, n.id)
            data = n.model_dump(exclude={"id"})
            if row is None:
                s.add(NoticeRow(id=n.id, **data))
                changed += 1
            elif STATE_RANK[n.state] > STATE_RANK[row.state]:
                for key in ("state", "answered_at", "answered_by", "result", "opinion"):
                    setattr(row, key, data[key])
                s.add(row)
                changed += 1
        s.commit()
    return changed


def get_notice(engine: Engine, notice: str) -> NoticeRow | None:
    with Session(engine) as s:
        return s.get(NoticeRow, notice)


def _levels(s: Session, rows: Sequence[NoticeRow]) -> dict[tuple[str, str], str]:
    apps = sorted({r.application_no for r in rows if r.state == "open"})
    if not apps:
        return {}
    found = s.exec(
        select(WarningRow.application_no, WarningRow.code, WarningRow.level).where(
            col(WarningRow.application_no).in_(apps), col(WarningRow.open)
        )
    ).all()
    out: dict[tuple[str, str], str] = {}
    for app, code, level in found:
        old = out.get((app, code))
        if level in LEVELS and (old is None or LEVELS.index(level) > LEVELS.index(old)):
            out[(app, code)] = level
    return out


def list_notices(
    engine: Engine,
    *,
    unit: str | None = None,
    department: str | None = None,
    state: str | None = None,
    application: str | None = None,
    limit: int = 200,
) -> list[NoticePublic]:
    """The inbox: open ones first, soonest due first; `unit`: that unit and those under it
    (None: every unit)."""
    with Session(engine) as s:
        q = _under(select(NoticeRow), unit)
        if department is not None:
            q = q.where(NoticeRow.department == department)
        if state is not None:
            q = q.where(NoticeRow.state == state)
        if application is not None:
            q = q.where(NoticeRow.application_no == application)
        # Ordered before the limit, so that old answered notices never crowd open ones out;
        # without a due instant last, as on every database.
        q = q.order_by(
            case((col(NoticeRow.state) == "open", 0), else_=1),
            col(NoticeRow.due_at).is_(None),
            col(NoticeRow.due_at),
            col(NoticeRow.id),
        ).limit(limit)
        rows = list(s.exec(q).all())
        levels = _levels(s, rows)
    return [
        NoticePublic(
            **r.model_dump(),
            level=levels.get((r.application_no, r.kind)) if r.state == "open" else None,
        )
        for r in rows
    ]


def summary(
    engine: Engine, unit: str | None, now: datetime, window: timedelta
) -> list[dict[str, Any]]:
    """Per department: notices open, due soon, overdue, and those answered (agreed or rejected)
    within `window` before `now` with their average answer time in hours.

    Due soon: not yet due, and the notice's monitor has raised a warning (its blue, 6 working
    hours before: the unit's working hours, so a notice due on Monday morning is due soon on
    Friday evening). Counted by the database: a unit's notices pile up for years, the open
    ones do not."""
    is_open = col(NoticeRow.state) == "open"
    due = col(NoticeRow.due_at)
    warned = (
        select(WarningRow.id)
        .where(
            col(WarningRow.application_no) == col(NoticeRow.application_no),
            col(WarningRow.code) == col(NoticeRow.kind),
            col(WarningRow.open),
        )
        .exists()
    )
    counts = select(
        NoticeRow.department,
        func.sum(case((is_open, 1), else_=0)),
        func.sum(case((is_open & (due < now), 1), else_=0)),
        func.sum(case((is_open & (due >= now) & warned, 1), else_=0)),
    ).group_by(col(NoticeRow.department))
    answered = select(NoticeRow.department, NoticeRow.issued_at, NoticeRow.answered_at).where(
        col(NoticeRow.state).in_(("answered", "rejected")),
        col(NoticeRow.answered_at) >= now - window,
    )
    with Session(engine) as s:
        per = {
            dept: {"department": dept, "open": o or 0, "overdue": late or 0,
                   "due_soon": near or 0, "answered": 0, "average_answer_hours": None}
            for dept, o, late, near in s.exec(_under(counts, unit)).all()
        }  # fmt: skip
        spent: dict[str, list[float]] = {}
        for dept, issued, at in s.exec(_under(answered, unit)).all():
            spent.setdefault(dept, []).append((at - issued).total_seconds() / 3600)
    for dept, hours in spent.items():
        per[dept]["answered"] = len(hours)
        per[dept]["average_answer_hours"] = round(sum(hours) / len(hours), 2)
    return sorted(per.values(), key=lambda d: (-d["overdue"], -d["open"], d["department"]))
