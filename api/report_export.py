"""A report as JSON, CSV (its main table) or XLSX (every table, one sheet each)."""

from __future__ import annotations

import csv
import io
from typing import Any, Literal

from fastapi import Response
from openpyxl import Workbook
from pydantic import BaseModel

from domain.reports.models import Table, tables

Format = Literal["json", "csv", "xlsx"]
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: OpenAPI for the 200 answer of a report: JSON by default, the exports on request.
EXPORT_CONTENT: dict[str, Any] = {
    "text/csv": {"schema": {"type": "string"}},
    XLSX: {"schema": {"type": "string", "format": "binary"}},
}


def csv_bytes(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    # The byte-order mark makes spreadsheet programs read the Chinese labels as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value: Any) -> Any:
    # A text cell starting with = + - @ would be read as a formula by spreadsheet programs.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def xlsx_bytes(sheets: list[Table]) -> bytes:
    book = Workbook(write_only=True)
    for table in sheets:
        sheet = book.create_sheet(title=table.name[:31])
        sheet.append(table.columns)
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(report: BaseModel, fmt: Format, name: str) -> Response | BaseModel:
    """The report itself for JSON (FastAPI serialises it against the route's model)."""
    if fmt == "json":
        return report
    sheets = tables(report)
    if fmt == "csv":
        return Response(
            csv_bytes(sheets[0]),
            media_type=CSV,
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        xlsx_bytes(sheets),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
