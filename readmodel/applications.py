"""Database tables, in the FastAPI template's Base / table / Public pattern.

The `application` table is a projection of the workflow written by an idempotent activity;
the API lists and reports from it so it never has to query thousands of workflows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from readmodel.types import UTCDateTime


class ApplicationBase(SQLModel):
    application_no: str = Field(primary_key=True, max_length=64)
    unit: str = Field(index=True, max_length=128)
    business_type: str = Field(index=True, max_length=64)
    voltage: str | None = Field(default=None, max_length=16)
    capacity_kva: float | None = None
    state: str = Field(index=True, max_length=16)
    stage: str = Field(index=True, max_length=64)
    customer_manager: str | None = Field(default=None, index=True, max_length=64)
    accepted_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # Highest open warning level, empty when none: the overdue list is `warning_level IN
    # ('yellow', 'red')` (a limit has passed), without asking any workflow.
    warning_level: str | None = Field(default=None, index=True, max_length=16)
    next_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    too_short: bool = False
    provisional: bool = False


class ApplicationRow(ApplicationBase, table=True):
    __tablename__ = "application"

    # Personal data lives here and in the workflow input only.
    customer_name: str = Field(max_length=200)
    customer_phone: str | None = Field(default=None, max_length=20)
    # The workflow's last answer, written when it closes: a closed application is read from
    # here, without replaying its history (which the server may already have deleted).
    final_status: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class ApplicationPublic(ApplicationBase):
    pass


class TimelineRow(SQLModel, table=True):
    __tablename__ = "timeline"
    __table_args__ = (
        UniqueConstraint("application_no", "seq"),
        # Reports find what was done in a period (appointments confirmed, flags raised,
        # applications closed) from this index alone.
        Index("ix_timeline_event_at", "event", "at", "application_no"),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_no: str = Field(index=True, max_length=64)
    seq: int
    event: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
    by: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=500)
    #: `imported` (the past given at import, docs/migration.md) or `live`.
    origin: str = Field(default="live", max_length=16, sa_column_kwargs={"server_default": "live"})


class WarningBase(SQLModel):
    application_no: str = Field(index=True, max_length=64)
    monitor: str = Field(max_length=128)
    code: str = Field(default="", max_length=64)
    level: str = Field(index=True, max_length=16)
    due_at: datetime = Field(sa_type=UTCDateTime)
    raised_at: datetime = Field(sa_type=UTCDateTime)
    roles: list[str] = Field(default_factory=list, sa_type=JSON)
    result: str | None = Field(default=None, max_length=32)
    source: str | None = Field(default=None, max_length=500)
    open: bool = Field(default=True, index=True)
    #: Already past when the application was imported: never sent on its own (the digest).
    imported: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})


class WarningRow(WarningBase, table=True):
    __tablename__ = "warning"
    __table_args__ = (
        # One warning per application, monitor and level, whatever retries or replays do.
        UniqueConstraint("application_no", "monitor", "level"),
        # The warning board: open ones, by level, soonest due first, and their counts by level
        # (bench/scale_bench.py: a fifth of the time over 100,000 applications).
        Index("ix_warning_open_level_due", "open", "level", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)


class WarningPublic(WarningBase):
    pass
