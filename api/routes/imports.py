"""Importing in-flight applications with their history, at go-live (docs/migration.md).

`POST /api/applications/import` takes JSON lines, `POST /api/applications/import.csv` takes
CSV; both need `applications.import` and write only in the caller's units. `mode=all` (the
default) refuses the whole file at the first error of any record, with every error listed
(line, field, reason) and nothing changed; `mode=rows` imports the good records and reports the
others. A record already imported with the same content is skipped; one that differs is refused
with its first difference, unless `update=true` and it only adds later events, which are then
recorded on the running workflow as staff would record them.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status

from api.audit import audit
from api.auth import Actor, ActorDep, CurrentUser, require
from api.csv_import import MAX_CSV_BYTES, RowError, csv_text
from api.deps import EngineDep, SettingsDep, TemporalDep
from api.errors import raise_if_unavailable
from api.import_run import (
    Importer,
    ImportMode,
    ImportReport,
    added_events,
    append_events,
    first_difference,
    refused,
)
from api.imports import (
    ImportRecord,
    Prepared,
    csv_lines,
    json_lines,
    normalised,
    parse_record,
    prepare,
)
from api.problems import NOT_ALLOWED, ProblemError, problems
from api.validation import invalid
from readmodel.imports import ImportedApplicationRow

router = APIRouter(prefix="/api/applications", tags=["applications"])

IMPORT = [require("applications.import")]
Mode = Annotated[
    ImportMode,
    Query(description="`all`: any error refuses the whole file; `rows`: report per record"),
]
Update = Annotated[bool, Query(description="Add the later events of records already imported")]


def _body(example: str, media: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                media: {
                    "schema": {"type": "string", "maxLength": MAX_CSV_BYTES},
                    "example": example,
                }
            },
        }
    }


JSONL_EXAMPLE = (
    '{"application_no": "OLD0001", "unit": "henan/sanmenxia", "business_type": "hv", '
    '"voltage": "10kV", "capacity_kva": 630, "accepted_at": "2026-03-02T09:00:00+08:00", '
    '"customer": {"name": "客户"}, "source_ref": "YK-2026-0001", "events": [{"event": '
    '"site_survey.completed", "at": "2026-03-04T10:00:00+08:00"}], "holds": []}\n'
)
CSV_EXAMPLE = (
    "application_no,unit,business_type,voltage,capacity_kva,accepted_at,customer_name,events\n"
    "OLD0001,henan/sanmenxia,hv,10kV,630,2026-03-02T09:00:00+08:00,客户,"
    "site_survey.completed@2026-03-04T10:00:00+08:00\n"
)
RESPONSES = problems(403, 413, 422, 503)


@router.post(
    "/import",
    response_model=ImportReport,
    responses=RESPONSES,
    openapi_extra=_body(JSONL_EXAMPLE, "application/jsonl"),
    dependencies=IMPORT,
)
async def import_applications(
    request: Request,
    temporal: TemporalDep,
    settings: SettingsDep,
    engine: EngineDep,
    user: CurrentUser,
    who: ActorDep,
    mode: Mode = "all",
    update: Update = False,
) -> ImportReport:
    """Body: one JSON object per line (docs/migration.md)."""
    lines = json_lines(await csv_text(request))
    return await _import(lines, temporal, settings, engine, user, who, mode, update)


@router.post(
    "/import.csv",
    response_model=ImportReport,
    responses=RESPONSES,
    openapi_extra=_body(CSV_EXAMPLE, "text/csv"),
    dependencies=IMPORT,
)
async def import_applications_csv(
    request: Request,
    temporal: TemporalDep,
    settings: SettingsDep,
    engine: EngineDep,
    user: CurrentUser,
    who: ActorDep,
    mode: Mode = "all",
    update: Update = False,
) -> ImportReport:
    """Body: a UTF-8 CSV file, one application per row (docs/migration.md)."""
    try:
        lines = csv_lines(await csv_text(request))
    except csv.Error as exc:
        raise invalid(ProblemError(field="body", reason=f"not a CSV file: {exc}")) from None
    return await _import(lines, temporal, settings, engine, user, who, mode, update)


@router.api_route(
    "/import.csv",
    methods=["GET", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
    name=NOT_ALLOWED,
    dependencies=IMPORT,
)
def import_csv_other_methods() -> None:
    """Only POST: the path would otherwise read as an application number (and fail its
    pattern with a 422)."""
    raise HTTPException(status.HTTP_405_METHOD_NOT_ALLOWED)


def _records(
    lines: list[tuple[int, Any] | RowError], user: Any
) -> tuple[list[tuple[int, ImportRecord]], list[RowError]]:
    """Every line parsed, in the caller's units, each number once."""
    records: list[tuple[int, ImportRecord]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for item in lines:
        if isinstance(item, RowError):
            errors.append(item)
            continue
        line, data = item
        parsed = parse_record(line, data)
        if isinstance(parsed, list):
            errors += parsed
        elif not user.writes(parsed.unit, parsed.customer_manager):
            errors.append(RowError(line, "unit", "outside the units you may import into"))
        elif parsed.application_no in seen:
            no = parsed.application_no
            errors.append(RowError(line, "application_no", f"repeats line {seen[no]}"))
        else:
            seen[parsed.application_no] = line
            records.append((line, parsed))
    if not records and not errors:
        errors.append(RowError(1, "body", "no records"))
    return records, errors


async def _import(
    lines: list[tuple[int, Any] | RowError],
    temporal: Any,
    settings: Any,
    engine: Any,
    user: Any,
    who: Actor,
    mode: ImportMode,
    update: bool,
) -> ImportReport:
    now = datetime.now(UTC)
    records, errors = _records(lines, user)
    importer = Importer(engine, temporal, settings)
    existing = importer.writer.existing([r.application_no for _, r in records])
    live = importer.live_numbers(
        [r.application_no for _, r in records if r.application_no not in existing]
    )
    fresh: list[Prepared] = []
    again: list[tuple[int, ImportRecord, ImportedApplicationRow]] = []
    for line, record in records:
        if record.application_no in existing:
            again.append((line, record, existing[record.application_no]))
        elif record.application_no in live:
            errors.append(RowError(line, "application_no", "an application created here has it"))
        else:
            done = prepare(line, record, now)
            if isinstance(done, Prepared):
                fresh.append(done)
            else:
                errors += done
    report = ImportReport(mode=mode)
    plans = _compare(again, update, errors, report)
    if errors and mode == "all":
        raise invalid(*refused(sorted(errors, key=lambda e: e.row)))
    report.refused = refused(sorted(errors, key=lambda e: e.row))
    try:
        await importer.import_new(fresh, now, report)
        await _restart(importer, again, report)
        await _append(importer, temporal, plans, who, now, report)
    except HTTPException:
        raise
    except Exception as exc:
        raise_if_unavailable(exc)
        raise
    audit(
        engine,
        who,
        "application.import",
        detail={
            "imported": str(report.imported),
            "updated": str(report.updated),
            "skipped": str(report.skipped),
            "refused": str(len(report.refused)),
        },
    )
    return report


def _compare(
    again: list[tuple[int, ImportRecord, ImportedApplicationRow]],
    update: bool,
    errors: list[RowError],
    report: ImportReport,
) -> list[tuple[int, ImportRecord, ImportedApplicationRow]]:
    """Sort the records already imported: unchanged (skipped), adding later events (to
    append with `update=true`), or refused at their first difference."""
    plans = []
    for line, record, stored in again:
        diff = first_difference(stored.record, normalised(record))
        if diff is None:
            report.skipped += 1
            continue
        field, appends = diff
        if appends and update:
            plans.append((line, record, stored))
        elif appends:
            errors.append(
                RowError(line, field, "adds events to the imported record: use update=true")
            )
        else:
            errors.append(RowError(line, field, "differs from the record already imported"))
    return plans


async def _restart(
    importer: Importer,
    again: list[tuple[int, ImportRecord, ImportedApplicationRow]],
    report: ImportReport,
) -> None:
    """Start the workflows an earlier run wrote but did not start (it stopped in between),
    from the same past judged at the same instant."""
    for line, record, stored in again:
        if stored.started:
            continue
        done = prepare(line, ImportRecord.model_validate(stored.record), stored.imported_at)
        if isinstance(done, Prepared) and await importer.start(done) is not None:
            report.started += 1
        importer.writer.mark_started([record.application_no])


async def _append(
    importer: Importer,
    temporal: Any,
    plans: list[tuple[int, ImportRecord, ImportedApplicationRow]],
    who: Actor,
    now: datetime,
    report: ImportReport,
) -> None:
    for line, record, stored in plans:
        old = ImportRecord.model_validate(stored.record)
        added = added_events(old, record, now)
        failed = await append_events(temporal, record.application_no, added, who.code)
        if failed is not None:
            field, refusal = failed
            report.refused += [
                ProblemError(field=field, reason=e.reason, row=line) for e in refusal.errors
            ]
            continue
        row = importer._import_row(record, stored.imported_at)
        row.updated_at, row.started = now, stored.started
        importer.writer.record_only([row])
        report.updated += 1
