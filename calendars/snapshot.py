"""The serialisable form of a calendar, carried into Temporal workflows (DESIGN.md §3)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from calendars.clock import ClockConfig


class AmendmentRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: str
    published: date
    title: str


class NoticeRef(BaseModel):
    """The document a year's data comes from (national notice or a regional override)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str
    year: int
    number: str
    published: date
    title: str
    amendments: tuple[AmendmentRef, ...] = ()


class CalendarSnapshot(BaseModel):
    """Everything a Calendar computes from, and nothing else: no I/O is needed to rebuild it.

    `holidays` holds only rest days falling on Monday-Friday and `makeup_workdays` only working
    days falling on Saturday/Sunday; every other day follows the weekday rule.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    region: str
    version: str
    tz: str = "Asia/Shanghai"
    # (UTC epoch seconds, UTC offset seconds, abbreviation) from which each offset applies:
    # the zone as data, so replay needs no tzdata and ignores later tzdata upgrades.
    tz_transitions: tuple[tuple[int, int, str], ...]
    clock: ClockConfig = ClockConfig()
    strict: bool = False
    published_years: tuple[int, ...]
    holidays: tuple[date, ...]
    makeup_workdays: tuple[date, ...]
    sources: tuple[NoticeRef, ...] = ()
