"""Reading an import of in-flight applications (docs/migration.md) and checking each record.

A record is the application as on create (but `application_no` and `accepted_at` are required,
and `accepted_at` may be any past instant), its past (`events`, `holds`) and an optional
`source_ref`. Each record is parsed, then its past is applied to a fresh ledger by the rules a
live event meets (domain.history); a refusal names the record's line, the field
(`events.2.at`, `holds.0.from`) and the reason. A value is never quoted back.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from api.csv_import import RowError
from api.schemas import ApplicationCreate
from api.validation import field_errors
from contracts.application import (
    APPLICATION_NO_PATTERN,
    CLOCK_SKEW,
    EVENT_PATTERN,
    ApplicationInput,
    ApplicationProfile,
    ApplicationStart,
    ImportedHistory,
    RecordedEvent,
)
from contracts.text import Note, ShortLine, Text
from domain.history import PastRefused, replay_history
from domain.ledger import ApplicationLedger
from domain.start import start_input
from policies.codes import PAUSE_EVENT, RESUME_EVENT
from policies.loader import PolicyError
from policies.profile import Instant, require_aware

#: The most events and holds one record may carry.
MAX_EVENTS = 500
MAX_HOLDS = 100
#: The CSV's columns (docs/migration.md); the profile's others are columns of their own.
CSV_FIXED = (
    "application_no",
    "accepted_at",
    "customer_name",
    "customer_phone",
    "customer_address",
    "customer_manager",
    "notify_customer",
    "source_ref",
    "events",
    "holds",
)


class PastEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: str = Field(pattern=EVENT_PATTERN)
    at: Instant
    by: ShortLine | None = None
    note: Note | None = None

    _aware = field_validator("at")(require_aware)


class PastHold(BaseModel):
    """A customer-caused hold: the clock stopped `from`, restarted `to` (absent: still held)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    reason: Text
    from_: Instant = Field(alias="from")
    to: Instant | None = None
    by: ShortLine | None = None

    _aware = field_validator("from_", "to")(require_aware)


class ImportRecord(ApplicationCreate):
    """One application to import: as on create, plus its past and the old order number."""

    application_no: str = Field(pattern=APPLICATION_NO_PATTERN)
    accepted_at: Instant = Field(description="Any past instant")
    source_ref: ShortLine | None = Field(default=None, description="The old system's number")
    events: list[PastEvent] = Field(default_factory=list, max_length=MAX_EVENTS)
    holds: list[PastHold] = Field(default_factory=list, max_length=MAX_HOLDS)

    def application(self) -> ApplicationInput:
        fields = set(ApplicationProfile.model_fields)
        return ApplicationInput(
            application_no=self.application_no,
            profile=ApplicationProfile(**self.model_dump(include=fields)),
            customer=self.customer,
            customer_manager=self.customer_manager,
            notify_customer=self.notify_customer,
        )


@dataclass
class Prepared:
    """A record that passed every check: its start input (with its past) and its ledger at
    the import's instant."""

    line: int
    record: ImportRecord
    start: ApplicationStart
    book: ApplicationLedger
    #: The past as one stream, and where each of its items came from in the record.
    labels: list[str]


def past_stream(
    record: ImportRecord, now: datetime
) -> tuple[list[RecordedEvent], list[str], list[RowError]]:
    """The events and holds as one stream in the order they happened (stable for equal
    instants: the record's order), with each item's field."""
    items: list[tuple[datetime, int, RecordedEvent, str]] = []
    errors: list[RowError] = []
    for i, e in enumerate(record.events):
        rec = RecordedEvent(event=e.event, at=e.at, by=e.by, note=e.note, recorded_at=now)
        items.append((e.at, len(items), rec, f"events.{i}"))
    for j, h in enumerate(record.holds):
        if h.to is not None and h.to < h.from_:
            errors.append(RowError(row=0, field=f"holds.{j}.to", reason="before its from"))
            continue
        pause = RecordedEvent(
            event=PAUSE_EVENT, at=h.from_, by=h.by, note=h.reason, reason=h.reason, recorded_at=now
        )
        items.append((h.from_, len(items), pause, f"holds.{j}.from"))
        if h.to is not None:
            resume = pause.model_copy(update={"event": RESUME_EVENT, "at": h.to})
            items.append((h.to, len(items), resume, f"holds.{j}.to"))
    items.sort(key=lambda x: (x[0], x[1]))
    return [x[2] for x in items], [x[3] for x in items], errors


def prepare(line: int, record: ImportRecord, now: datetime) -> Prepared | list[RowError]:
    """The record checked as live events are, or its errors (on `line`)."""
    if record.accepted_at > now + CLOCK_SKEW:
        return [RowError(row=line, field="accepted_at", reason="must not be in the future")]
    events, labels, errors = past_stream(record, now)
    if errors:
        return [RowError(row=line, field=e.field, reason=e.reason) for e in errors]
    try:
        start = start_input(record.application())
    except (PolicyError, ValueError) as exc:
        return [RowError(row=line, field="unit", reason=str(exc)[:200])]
    history = ImportedHistory(events=events, imported_at=now, source_ref=record.source_ref)
    start.history = history
    book = ApplicationLedger(start, now)
    try:
        replay_history(book, history)
    except PastRefused as exc:
        label = labels[exc.index]
        return [
            RowError(row=line, field=_field(label, e.field), reason=e.reason)
            for e in exc.refusal.errors
        ]
    return Prepared(line=line, record=record, start=start, book=book, labels=labels)


def _field(label: str, field: str) -> str:
    """The record's field for a refusal's field: `events.2.at`; a hold's `holds.0.from`."""
    if label.startswith("holds."):
        return label
    return f"{label}.{field}" if field in ("at", "event") else label


def parse_record(line: int, data: Any) -> ImportRecord | list[RowError]:
    try:
        # Text cells (CSV) are read as numbers and booleans here; JSON keeps its types.
        return ImportRecord.model_validate(data, strict=False)
    except ValidationError as exc:
        return [RowError(row=line, field=e.field, reason=e.reason) for e in field_errors(exc)]


def json_lines(text: str) -> list[tuple[int, Any] | RowError]:
    """(line, object) per non-blank line, or the line's error."""
    out: list[tuple[int, Any] | RowError] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            out.append(RowError(row=n, field="line", reason=f"not JSON: {exc.msg}"))
            continue
        if not isinstance(data, dict):
            out.append(RowError(row=n, field="line", reason="not a JSON object"))
            continue
        out.append((n, data))
    return out


def csv_lines(text: str) -> list[tuple[int, Any] | RowError]:
    """(line, record as JSON would give it) per row: `customer_*` columns make the customer,
    `events` is `<event>@<instant>` items separated by `;`, `holds` is `<from>/<to>/<reason>`
    items separated by `;` (`to` empty while held), `location` is `lat,lon`."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        return [RowError(row=1, field="header", reason="empty file")]
    header = [h.strip() for h in reader.fieldnames]
    missing = [c for c in ("application_no", "accepted_at", "customer_name") if c not in header]
    if missing:
        return [RowError(row=1, field="header", reason=f"missing column(s) {', '.join(missing)}")]
    out: list[tuple[int, Any] | RowError] = []
    for raw in reader:
        line = reader.line_num
        cells = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if None in raw:
            out.append(RowError(row=line, field="row", reason="more cells than columns"))
            continue
        if not any(cells.values()):
            continue
        parsed = _csv_record(cells)
        out.append((line, parsed) if isinstance(parsed, dict) else parsed._replace_row(line))
    return out


@dataclass(frozen=True)
class _CellError:
    field: str
    reason: str

    def _replace_row(self, line: int) -> RowError:
        return RowError(row=line, field=self.field, reason=self.reason)


def _typed(name: str, value: str) -> Any:
    """A cell as JSON would carry it: numbers and booleans of the profile are strict there."""
    field = ImportRecord.model_fields.get(name)
    kind = str(field.annotation) if field is not None else ""
    if "bool" in kind and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    if "float" in kind:
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _location(value: str) -> Any:
    lat, _, lon = value.partition(",")
    try:
        return {"lat": float(lat), "lon": float(lon)}
    except ValueError:
        return value


def _csv_record(cells: dict[str, str]) -> dict[str, Any] | _CellError:
    data: dict[str, Any] = {k: _typed(k, v) for k, v in cells.items() if v and k not in CSV_FIXED}
    for name in ("application_no", "accepted_at", "customer_manager", "source_ref"):
        if cells.get(name):
            data[name] = cells[name]
    if cells.get("notify_customer"):
        data["notify_customer"] = _typed("notify_customer", cells["notify_customer"])
    customer = {"name": cells.get("customer_name", "")}
    for part in ("phone", "address"):
        if cells.get(f"customer_{part}"):
            customer[part] = cells[f"customer_{part}"]
    data["customer"] = customer
    if "location" in data:
        data["location"] = _location(cells["location"])
    events = []
    for i, item in enumerate(x.strip() for x in cells.get("events", "").split(";")):
        if not item:
            continue
        name, sep, at = item.partition("@")
        if not sep:
            return _CellError(f"events.{i}", "expected <event>@<instant>")
        events.append({"event": name.strip(), "at": at.strip()})
    holds = []
    for j, item in enumerate(x.strip() for x in cells.get("holds", "").split(";")):
        if not item:
            continue
        parts = item.split("/", 2)
        if len(parts) != 3:
            return _CellError(f"holds.{j}", "expected <from>/<to>/<reason>")
        hold = {"from": parts[0].strip(), "reason": parts[2].strip()}
        if parts[1].strip():
            hold["to"] = parts[1].strip()
        holds.append(hold)
    data["events"], data["holds"] = events, holds
    return data


def normalised(record: ImportRecord) -> dict[str, Any]:
    """The record as stored to compare a re-import with (JSON, no line)."""
    return record.model_dump(mode="json", by_alias=True, exclude_none=True)
