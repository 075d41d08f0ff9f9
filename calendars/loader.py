"""Reading, validating and merging the per-region, per-year TOML data files.

Layout: <data dir>/<REGION>/<YEAR>.toml, e.g. data/CN/2026.toml. A region code like "CN-HA"
resolves to the chain CN -> CN-HA: the national file of a year applies, then the regional one
(if any) adds to or amends it. Only the national root decides which years are published.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from calendars.errors import CalendarDataError
from calendars.snapshot import AmendmentRef, NoticeRef

# No resolve(): the Temporal sandbox restricts it, and the package is imported there.
DATA_DIR = Path(__file__).parent / "data"
DATA_DIR_ENV = "CALENDARS_DATA_DIR"
_REGION_RE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]+)*$")
_TOML_LINE_RE = re.compile(r"at line (\d+)")

_TOP_KEYS = {"region", "year", "notice", "holidays", "amendments"}
_NOTICE_KEYS = {"title", "number", "published", "url", "note"}
_HOLIDAY_KEYS = {"name", "start", "end", "makeup", "note"}
_AMENDMENT_KEYS = {
    "title",
    "number",
    "published",
    "url",
    "note",
    "add_holidays",
    "remove_holidays",
    "add_makeup",
    "cancel_makeup",
}
_RANGE_KEYS = {"name", "start", "end", "note"}


def data_dir() -> Path:
    """The data folder in use: $CALENDARS_DATA_DIR if set, else the packaged one."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else DATA_DIR


def region_chain(region: str) -> tuple[str, ...]:
    """ "CN-HA-XY" -> ("CN", "CN-HA", "CN-HA-XY")."""
    parts = region.split("-")
    return tuple("-".join(parts[: i + 1]) for i in range(len(parts)))


class _Locator:
    """Finds the line of a value in a file's raw text, so semantic errors can name it."""

    def __init__(self, raw: str) -> None:
        # Comments are cut so that a date quoted in a comment is not mistaken for the value.
        self._lines = [line.split("#", 1)[0] for line in raw.splitlines()]

    def value(self, needle: str, last: bool = False) -> int | None:
        """The line of needle's first occurrence, or of its last one for a repeated value
        (the repetition is the offender)."""
        hits = [i + 1 for i, line in enumerate(self._lines) if needle in line]
        if not hits:
            return None
        return hits[-1] if last else hits[0]

    def key(self, key: str) -> int | None:
        pattern = re.compile(rf"^\s*(\[\[?\s*)?{re.escape(key)}\b")
        for i, line in enumerate(self._lines):
            if pattern.match(line):
                return i + 1
        return None


@dataclass
class _YearState:
    rest: dict[date, str] = field(default_factory=dict)
    makeup: dict[date, str] = field(default_factory=dict)


@dataclass
class RegionData:
    """The merged data of one region: what a Calendar is built from, plus names for display."""

    region: str
    files: list[Path]
    version: str
    published_years: list[int]
    rest: dict[date, str]
    makeup: dict[date, str]
    sources: list[NoticeRef]

    @property
    def holidays(self) -> list[date]:
        return sorted(d for d in self.rest if d.weekday() < 5)

    @property
    def makeup_workdays(self) -> list[date]:
        return sorted(self.makeup)


class _FileParser:
    def __init__(self, path: Path, region: str, year: int, state: _YearState) -> None:
        self.path = path
        self.region = region
        self.year = year
        self.state = state
        try:
            raw = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CalendarDataError(path, None, f"not UTF-8 text: {exc}") from exc
        try:
            self.doc: dict[str, Any] = tomllib.loads(raw)
        except tomllib.TOMLDecodeError as exc:
            match = _TOML_LINE_RE.search(str(exc))
            line = int(match.group(1)) if match else None
            raise CalendarDataError(path, line, f"malformed TOML: {exc}") from exc
        self.loc = _Locator(raw)

    def fail(
        self, message: str, *, value: str | None = None, key: str | None = None, last: bool = False
    ) -> NoReturn:
        line = None
        if value is not None:
            line = self.loc.value(value, last)
        if line is None and key is not None:
            line = self.loc.key(key)
        raise CalendarDataError(self.path, line, message)

    # -- typed field access -----------------------------------------------------------------------

    def _keys(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key not in allowed:
                self.fail(f"unknown key {key!r} in {where}", key=key)

    def _str(self, table: dict[str, Any], key: str, where: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where}: {key!r} must be a non-empty string", key=key)
        return str(value)

    def _date(self, value: object, what: str, key: str) -> date:
        if not isinstance(value, date) or isinstance(value, datetime):
            self.fail(f"{what} must be a TOML date (YYYY-MM-DD), got {value!r}", key=key)
        return value

    def _in_year(self, d: date, what: str) -> date:
        if d.year != self.year:
            self.fail(f"{what} {d} is outside the file's year {self.year}", value=d.isoformat())
        return d

    def _array(self, table: dict[str, Any], key: str, where: str) -> list[Any]:
        value = table.get(key, [])
        if not isinstance(value, list):
            self.fail(f"{where}: {key!r} must be an array", key=key)
        return list(value)

    # -- the document ------------------------------------------------------------------------------

    def parse(self) -> NoticeRef:
        doc = self.doc
        self._keys(doc, _TOP_KEYS, "the file")
        if doc.get("region") != self.region:
            self.fail(
                f"region is {doc.get('region')!r} but the file lies in folder {self.region!r}",
                key="region",
            )
        if doc.get("year") != self.year:
            self.fail(
                f"year is {doc.get('year')!r} but the file is named {self.year}.toml", key="year"
            )
        notice = doc.get("notice")
        if not isinstance(notice, dict):
            self.fail("missing [notice] table (title, number, published)", key="notice")
        self._keys(notice, _NOTICE_KEYS, "[notice]")
        title = self._str(notice, "title", "[notice]")
        number = self._str(notice, "number", "[notice]")
        published = self._date(notice.get("published"), "[notice] published", "published")

        holidays = doc.get("holidays", [])
        if not isinstance(holidays, list) or not all(isinstance(h, dict) for h in holidays):
            self.fail("'holidays' must be an array of tables ([[holidays]])", key="holidays")
        for entry in holidays:
            self._keys(entry, _HOLIDAY_KEYS, "[[holidays]]")
            name = self._str(entry, "name", "[[holidays]]")
            self._add_range(entry, name)
            for value in self._array(entry, "makeup", f"holiday {name}"):
                self._add_makeup(self._date(value, f"make-up day of {name}", "makeup"), name)

        amendments = self._array(doc, "amendments", "the file")
        refs: list[AmendmentRef] = []
        ordered = sorted((a for a in amendments if isinstance(a, dict)), key=self._published_of)
        if len(ordered) != len(amendments):
            self.fail("'amendments' must be an array of tables ([[amendments]])", key="amendments")
        for amendment in ordered:
            refs.append(self._apply_amendment(amendment))
        return NoticeRef(
            region=self.region,
            year=self.year,
            number=number,
            published=published,
            title=title,
            amendments=tuple(refs),
        )

    def _add_range(self, entry: dict[str, Any], name: str) -> None:
        start = self._in_year(self._date(entry.get("start"), f"start of {name}", "start"), name)
        end = self._in_year(self._date(entry.get("end"), f"end of {name}", "end"), name)
        if end < start:
            self.fail(f"holiday {name} ends ({end}) before it starts ({start})", value=str(end))
        d = start
        while d <= end:
            if d in self.state.rest:
                self.fail(
                    f"holiday {name} ({start}..{end}) overlaps {self.state.rest[d]} on {d}",
                    value=start.isoformat(),
                    last=True,
                )
            if d in self.state.makeup:
                self.fail(
                    f"holiday {name} ({start}..{end}) covers the make-up working day {d}",
                    value=start.isoformat(),
                )
            self.state.rest[d] = name
            d += timedelta(days=1)

    def _add_makeup(self, d: date, name: str) -> None:
        self._in_year(d, f"make-up day of {name}")
        iso = d.isoformat()
        if d.weekday() < 5:
            self.fail(f"make-up working day {d} ({name}) is a {d:%A}, not a weekend day", value=iso)
        if d in self.state.makeup:
            self.fail(f"make-up working day {d} is listed twice", value=iso, last=True)
        if d in self.state.rest:
            self.fail(
                f"make-up working day {d} lies inside {self.state.rest[d]}", value=iso, last=True
            )
        self.state.makeup[d] = name

    @staticmethod
    def _published_of(amendment: dict[str, Any]) -> date:
        value = amendment.get("published")
        return value if isinstance(value, date) else date.max

    def _apply_amendment(self, amendment: dict[str, Any]) -> AmendmentRef:
        self._keys(amendment, _AMENDMENT_KEYS, "[[amendments]]")
        number = self._str(amendment, "number", "[[amendments]]")
        title = self._str(amendment, "title", "[[amendments]]")
        published = self._date(amendment.get("published"), f"published of {number}", "published")
        # Cancellations first: an amendment that extends a holiday over a make-up day cancels
        # that make-up day in the same breath (国办发明电〔2020〕1号 did exactly this).
        for value in self._array(amendment, "cancel_makeup", number):
            d = self._in_year(
                self._date(value, f"cancel_makeup of {number}", "cancel_makeup"), number
            )
            if d not in self.state.makeup:
                self.fail(f"{number} cancels {d}, which is not a make-up day", value=d.isoformat())
            del self.state.makeup[d]
        for value in self._array(amendment, "remove_holidays", number):
            d = self._in_year(
                self._date(value, f"remove_holidays of {number}", "remove_holidays"), number
            )
            if d not in self.state.rest:
                self.fail(f"{number} removes {d}, which is not a holiday", value=d.isoformat())
            del self.state.rest[d]
        for entry in self._array(amendment, "add_holidays", number):
            if not isinstance(entry, dict):
                self.fail(f"{number}: add_holidays entries must be tables", key="add_holidays")
            self._keys(entry, _RANGE_KEYS, f"add_holidays of {number}")
            self._add_range(entry, self._str(entry, "name", f"add_holidays of {number}"))
        for value in self._array(amendment, "add_makeup", number):
            self._add_makeup(self._date(value, f"add_makeup of {number}", "add_makeup"), number)
        return AmendmentRef(number=number, published=published, title=title)


def _year_files(folder: Path) -> dict[int, Path]:
    files: dict[int, Path] = {}
    if not folder.is_dir():
        return files
    for path in sorted(folder.iterdir()):
        if path.suffix != ".toml":
            continue
        if not re.fullmatch(r"\d{4}", path.stem):
            raise CalendarDataError(path, None, "data files must be named YYYY.toml")
        files[int(path.stem)] = path
    return files


def checked_region(region: str) -> str:
    region = region.upper()
    if not _REGION_RE.match(region):
        raise ValueError(f"region code {region!r} is not like 'CN' or 'CN-HA'")
    return region


def load_region(region: str, root: Path | None = None) -> RegionData:
    """Read, validate and merge every file of the region's chain."""
    region = checked_region(region)
    root = root if root is not None else data_dir()
    chain = region_chain(region)
    per_level = [_year_files(root / level) for level in chain]
    if not per_level[0]:
        raise CalendarDataError(root / chain[0], None, f"no calendar data for region {chain[0]}")
    national_years = set(per_level[0])
    for files in per_level[1:]:
        for year, path in files.items():
            if year not in national_years:
                raise CalendarDataError(
                    path, None, f"regional file for {year}, which has no national ({chain[0]}) file"
                )
    rest: dict[date, str] = {}
    makeup: dict[date, str] = {}
    sources: list[NoticeRef] = []
    used: list[Path] = []
    for year in sorted(national_years):
        state = _YearState()
        for level, files in zip(chain, per_level, strict=True):
            if year in files:
                sources.append(_FileParser(files[year], level, year, state).parse())
                used.append(files[year])
        rest.update(state.rest)
        makeup.update(state.makeup)
    return RegionData(
        region=region,
        files=used,
        version=_version(used, root),
        published_years=sorted(national_years),
        rest=rest,
        makeup=makeup,
        sources=sources,
    )


def _version(paths: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def check_all(root: Path | None = None) -> tuple[list[RegionData], list[CalendarDataError]]:
    """Validate every region folder; returns the loaded regions and the errors found."""
    root = root if root is not None else data_dir()
    loaded: list[RegionData] = []
    errors: list[CalendarDataError] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            loaded.append(load_region(folder.name, root))
        except CalendarDataError as exc:
            errors.append(exc)
        except ValueError as exc:
            errors.append(CalendarDataError(folder, None, str(exc)))
    return loaded, errors
