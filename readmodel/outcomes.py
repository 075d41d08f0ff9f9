"""How each monitor of a closed application ended, as the workflow judged it.

One row per (application, monitor) that started, written once when the application closes
(from its final status), so reports over many applications read a few columns instead of each
one's final status: whether the stage or the whole process kept its provincial and national
limits, and the time its rule counted (holds and the rule's own pauses excluded).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from readmodel.types import UTCDateTime


class MonitorOutcomeRow(SQLModel, table=True):
    __tablename__ = "monitor_outcome"
    __table_args__ = (
        UniqueConstraint("application_no", "monitor"),
        # Reports select by code (full_process, a stage) and the instant the monitor stopped.
        Index("ix_monitor_outcome_code_stopped", "code", "stopped_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_no: str = Field(index=True, max_length=64)
    #: The rule id (hv.plan_reply); `code` is the stage, notice or `full_process` it times.
    monitor: str = Field(max_length=128)
    code: str = Field(max_length=64)
    label: str | None = Field(default=None, max_length=200)
    #: met, breached, or (a monitor still open when the application closed) running, paused.
    state: str = Field(max_length=16)
    started_at: datetime = Field(sa_type=UTCDateTime)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    provincial_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    national_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The time the rule counted, in the unit of its limit (workday, hour, day, ...).
    elapsed_amount: float | None = None
    elapsed_unit: str | None = Field(default=None, max_length=16)
    provincial_amount: float | None = None
    provincial_unit: str | None = Field(default=None, max_length=16)
    national_amount: float | None = None
    national_unit: str | None = Field(default=None, max_length=16)
