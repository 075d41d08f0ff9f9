"""The two working-time clocks (DESIGN.md §3) and their serialisable configuration.

A clock maps a time of day on a working day to the business time elapsed on that day, and back.
Both clocks measure local wall time in the calendar's zone, so a working day is always the same
length whatever the zone's offset does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

DAY_US = 86_400_000_000
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
DEFAULT_OFFICE_PERIODS: tuple[tuple[str, str], ...] = (("08:30", "12:00"), ("13:30", "17:30"))


def _parse_hhmm(value: str) -> int:
    """Microseconds since midnight; "24:00" is allowed as the end of a period."""
    if not _HHMM.match(value):
        raise ValueError(f"time {value!r} is not HH:MM (00:00 to 24:00)")
    hours, minutes = value.split(":")
    return (int(hours) * 60 + int(minutes)) * 60_000_000


class ClockConfig(BaseModel):
    """Which clock a calendar runs; part of every snapshot."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["working_day", "office_hours"] = "working_day"
    # Only for office_hours: the daily working periods as ("HH:MM", "HH:MM"), sorted, disjoint.
    periods: tuple[tuple[str, str], ...] = ()

    @field_validator("periods")
    @classmethod
    def _periods_valid(cls, periods: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        previous_end = 0
        for start, end in periods:
            s, e = _parse_hhmm(start), _parse_hhmm(end)
            if e <= s:
                raise ValueError(f"period {start}-{end} does not end after it starts")
            if s < previous_end:
                raise ValueError(f"period {start}-{end} overlaps or precedes the previous one")
            previous_end = e
        return periods

    @model_validator(mode="after")
    def _periods_match_kind(self) -> ClockConfig:
        if self.kind == "working_day" and self.periods:
            raise ValueError("the working_day clock runs 24 h and takes no periods")
        if self.kind == "office_hours" and not self.periods:
            raise ValueError("the office_hours clock needs at least one period")
        return self

    @classmethod
    def office_hours(
        cls, periods: Sequence[tuple[str, str]] = DEFAULT_OFFICE_PERIODS
    ) -> ClockConfig:
        return cls(kind="office_hours", periods=tuple((s, e) for s, e in periods))


class WorkingDayClock:
    """24 h of business time on every working day (the default, DESIGN.md §3)."""

    day_us = DAY_US

    def __init__(self) -> None:
        self.config = ClockConfig()

    def worked(self, tod_us: int) -> int:
        return tod_us

    def time_at(self, r_us: int, earliest: bool) -> int:  # noqa: ARG002  (the protocol's)
        return r_us


class OfficeHoursClock:
    """Business time runs only inside the configured daily periods of a working day."""

    def __init__(self, config: ClockConfig) -> None:
        if config.kind != "office_hours":
            raise ValueError("OfficeHoursClock needs an office_hours ClockConfig")
        self.config = config
        self._periods = [(_parse_hhmm(s), _parse_hhmm(e)) for s, e in config.periods]
        cumulative: list[tuple[int, int, int]] = []
        total = 0
        for s, e in self._periods:
            cumulative.append((s, total, total + e - s))
            total += e - s
        self._cumulative = cumulative
        self.day_us = total

    def worked(self, tod_us: int) -> int:
        done = 0
        for s, e in self._periods:
            if tod_us <= s:
                break
            done += (tod_us if tod_us < e else e) - s
        return done

    def time_at(self, r_us: int, earliest: bool) -> int:
        # At a boundary between two periods (r equal to a period's cumulative end) the earliest
        # instant is that period's end and the latest is the next period's start.
        for start, cum_start, cum_end in self._cumulative:
            if cum_end > r_us or (earliest and cum_end == r_us):
                return start + (r_us - cum_start)
        start, cum_start, _ = self._cumulative[-1]
        return start + (r_us - cum_start)


Clock = WorkingDayClock | OfficeHoursClock


def make_clock(spec: ClockConfig | str | Clock | None) -> Clock:
    """Accepts None / "working_day" / "office_hours" / a ClockConfig / a clock object."""
    if spec is None:
        return WorkingDayClock()
    if isinstance(spec, WorkingDayClock | OfficeHoursClock):
        return spec
    if isinstance(spec, str):
        if spec == "working_day":
            return WorkingDayClock()
        if spec == "office_hours":
            return OfficeHoursClock(ClockConfig.office_hours())
        raise ValueError(f"unknown clock {spec!r} (expected 'working_day' or 'office_hours')")
    if spec.kind == "working_day":
        return WorkingDayClock()
    return OfficeHoursClock(spec)
