"""All-or-nothing CSV imports with a report per row.

Every row is checked first (its fields, then its references); any error refuses the whole file
with a 422 problem whose `errors` name the line (`row`), the field and the reason, and nothing is
written. Otherwise rows are created or updated by id in one transaction. A value is never
quoted back in a reason (a cell may hold a phone number).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import HTTPException, Request, status
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, SQLModel, col, select

from api.problems import ProblemError
from api.validation import field_errors, invalid
from contracts.errors import FieldError

M = TypeVar("M", bound=BaseModel)

#: An import larger than this is refused before it is parsed (about 100,000 rows).
MAX_CSV_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class RowError:
    #: 1-based line number in the file (the header is line 1).
    row: int
    field: str
    reason: str


class ImportReport(BaseModel):
    """What an accepted import did (a refused one is a 422 problem, one error per row and
    field, with `row`)."""

    kind: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False


@dataclass
class Parsed(Generic[M]):
    items: list[M] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


async def csv_text(request: Request) -> str:
    """The request body as text: UTF-8, with or without the BOM Excel writes."""
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail={"field": "body", "reason": f"larger than {MAX_CSV_BYTES} bytes: split it"},
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid(ProblemError(field="body", reason="not UTF-8 text")) from None


def _header_error(header: list[str], columns: Sequence[str], required: Sequence[str]) -> str:
    missing = [c for c in required if c not in header]
    unknown = [h for h in header if h not in columns]
    repeated = sorted({h for h in header if header.count(h) > 1})
    parts = [
        f"missing column(s) {', '.join(missing)}" if missing else "",
        f"unknown column(s) {', '.join(unknown)}" if unknown else "",
        f"repeated column(s) {', '.join(repeated)}" if repeated else "",
    ]
    return "; ".join(p for p in parts if p)


def csv_records(
    text: str, columns: Sequence[str], required: Sequence[str]
) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """(line, cells) for every row; a blank cell is left out, so the field's default applies
    (or its absence is reported when it has none)."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return [], [RowError(row=1, field="header", reason="empty file")]
    problem = _header_error(header, columns, required)
    if problem:
        return [], [RowError(row=1, field="header", reason=problem)]
    records: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(
                RowError(row=line, field="row", reason=f"{len(cells)} cells for {len(header)}")
            )
            continue
        records.append(
            (line, {h: c.strip() for h, c in zip(header, cells, strict=False) if c.strip()})
        )
    return records, errors


def parse_records(
    records: list[tuple[int, dict[str, str]]],
    model: type[M],
    check: Callable[[M], list[FieldError]],
    key: Callable[[M], str],
) -> Parsed[M]:
    """Each record validated as `model`, then `check`ed (references); ids must not repeat."""
    out: Parsed[M] = Parsed()
    seen: dict[str, int] = {}
    for line, cells in records:
        try:
            # Every cell is text: numbers and booleans are read from it here, unlike in JSON.
            item = model.model_validate(cells, strict=False)
        except ValidationError as exc:
            out.errors += [
                RowError(row=line, field=e.field, reason=e.reason) for e in field_errors(exc)
            ]
            continue
        problems = check(item)
        if problems:
            out.errors += [RowError(row=line, field=e.field, reason=e.reason) for e in problems]
            continue
        k = key(item)
        if k in seen:
            out.errors.append(RowError(row=line, field="id", reason=f"repeats line {seen[k]}"))
            continue
        seen[k] = line
        out.items.append(item)
    return out


def refuse_if_errors(errors: Sequence[RowError]) -> None:
    if errors:
        raise invalid(*(ProblemError(field=e.field, reason=e.reason, row=e.row) for e in errors))


def upsert_by_id(
    session: Session, table: type[SQLModel], items: Sequence[BaseModel], report: ImportReport
) -> None:
    """Create the rows whose id is new and update the others (counted as unchanged when
    nothing differs). The caller commits, or rolls back for a dry run."""
    ids = [getattr(i, "id") for i in items]  # noqa: B009
    existing: dict[str, Any] = {}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        for row in session.exec(_by_ids(table, part)).all():
            existing[row.id] = row
    for item in items:
        values = item.model_dump()
        row = existing.get(values["id"])
        if row is None:
            session.add(table(**values))
            report.created += 1
        elif all(getattr(row, k) == v for k, v in values.items()):
            report.unchanged += 1
        else:
            for k, v in values.items():
                setattr(row, k, v)
            session.add(row)
            report.updated += 1


def _by_ids(table: type[SQLModel], ids: list[str]) -> Any:
    return select(table).where(col(table.id).in_(ids))  # type: ignore[attr-defined]
