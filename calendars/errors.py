"""Exceptions raised by the calendars package."""

from __future__ import annotations

from pathlib import Path


class CalendarError(Exception):
    """Base class of every error the calendars package raises on purpose."""


class CalendarDataError(CalendarError, ValueError):
    """A data file is malformed or inconsistent; carries the file and, when known, the line."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")


class UnpublishedYearError(CalendarError, LookupError):
    """A strict calendar was asked about a year without published data."""

    def __init__(self, region: str, years: list[int]) -> None:
        self.region = region
        self.years = years
        listed = ", ".join(str(y) for y in years)
        super().__init__(
            f"calendar {region!r} has no published data for {listed} "
            "(strict calendar: refusing to fall back to the weekday rule)"
        )
