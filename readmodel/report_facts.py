"""Report facts: what the reports over many applications read, kept narrow and numeric.

Written by the projection beside the rows the API reads, so a report scans two compact tables
instead of each application's timeline and final status:

- `report_application`, one row per application that reached a connection or closed: its
  class and unit, when it was accepted, energised and had its meter installed (the
  connection is the last energisation, else the last meter installation), and, from its close,
  whether it kept every whole-process limit of each tier.
- `report_monitor`, one row per monitor that started, written once at the close from the final
  status: the time its rule counted and whether it stopped within each tier's limit.

Instants and durations are whole seconds (instants since 1970-01-01 UTC): the reports read
them as numbers, in bulk, aggregated by the database. Written idempotently and in any order:
the instants keep their maximum, the close writes once.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

#: The whole-process monitors' code (policies.codes.FULL_PROCESS: the read model sits below
#: the policies, so it names the code itself; tests/reports check they agree).
FULL_PROCESS = "full_process"


class ReportApplicationRow(SQLModel, table=True):
    __tablename__ = "report_application"
    __table_args__ = (
        # Covers the connection-time report: its groups come out of the index in order,
        # without reading the table.
        Index(
            "ix_report_application_class",
            "unit",
            "business_type",
            "voltage",
            "connected_s",
            "accepted_s",
            "state",
            "kept_provincial",
            "kept_national",
            "full_process_judged",
        ),
    )

    application_no: str = Field(primary_key=True, max_length=64)
    unit: str = Field(index=True, max_length=128)
    business_type: str = Field(max_length=64)
    voltage: str | None = Field(default=None, max_length=16)
    accepted_s: int = Field(sa_type=BigInteger)
    energized_s: int | None = Field(default=None, sa_type=BigInteger)
    installed_s: int | None = Field(default=None, sa_type=BigInteger)
    #: energized_s, else installed_s: when the customer was connected (接电).
    connected_s: int | None = Field(default=None, sa_type=BigInteger, index=True)
    #: Set at the close: completed or cancelled.
    state: str | None = Field(default=None, max_length=16)
    closed_s: int | None = Field(default=None, sa_type=BigInteger)
    #: At the close: 1 when every whole-process limit of the tier was kept, 0 when one was
    #: passed, NULL when the application had none of that tier.
    kept_provincial: int | None = None
    kept_national: int | None = None
    #: Whole-process monitors that stopped (judged) by the close.
    full_process_judged: int | None = None


class ReportMonitorRow(SQLModel, table=True):
    __tablename__ = "report_monitor"
    __table_args__ = (
        UniqueConstraint("application_no", "monitor"),
        # Stage times select the monitors that stopped in a period, in groups per rule: the
        # first index finds a short period's few, the second covers a long one's many (and the
        # targets that average one rule's counted time).
        Index("ix_report_monitor_stopped", "stopped_s", "code"),
        Index(
            "ix_report_monitor_group",
            "monitor",
            "unit",
            "code",
            "elapsed_unit",
            "stopped_s",
            "started_s",
            "elapsed_s",
            "kept_provincial",
            "kept_national",
            "application_no",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    application_no: str = Field(max_length=64)
    unit: str = Field(max_length=128)
    business_type: str = Field(max_length=64)
    voltage: str | None = Field(default=None, max_length=16)
    #: The rule id (hv.plan_reply); `code` is the stage, notice or full_process it times.
    monitor: str = Field(max_length=128)
    code: str = Field(max_length=64)
    #: met, breached, or (still open at the close) running, paused.
    state: str = Field(max_length=16)
    started_s: int = Field(sa_type=BigInteger)
    stopped_s: int | None = Field(default=None, sa_type=BigInteger)
    #: The time the rule counted (holds and its pauses excluded), in seconds of its clock
    #: (working time for a working-time limit), and the unit of its limit to show it in.
    elapsed_s: int | None = Field(default=None, sa_type=BigInteger)
    elapsed_unit: str | None = Field(default=None, max_length=16)
    kept_provincial: int | None = None
    kept_national: int | None = None
