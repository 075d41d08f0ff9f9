"""Running an import of in-flight applications (docs/migration.md) once every record is read.

For speed, the workflows do not write their own start: each batch's read model (rows,
timelines, warnings, report facts), import records and overdue digest are written in one
transaction from the state the pure domain computed (api.imports.prepare); then the batch's
workflows start concurrently, each with its past (ApplicationStart.history) and its search
attributes, and find the read model already current (workflows.writer.ChangeWriter.imported).
A batch written but not started (the API died in between) is started by the next run of the
same import, which finds its records unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.csv_import import RowError
from api.imports import ImportRecord, Prepared, normalised, past_stream
from api.problems import ProblemError
from contracts.application import HoldRequest, RecordedEvent, RecordEventRequest, workflow_id
from contracts.errors import Refusal
from contracts.organisation import normalize_mobile
from core.config import Settings
from domain.notices import warning_notices
from domain.notifications.messages import render_import_digest
from domain.notifications.recipients import notice_departments, select_recipients
from domain.notifications.windows import SendWindows
from domain.views import initial_search_attributes, projection_input, row, search_attributes
from domain.views import summary as ui_summary
from policies import labels
from policies.codes import PAUSE_EVENT, RESUME_EVENT
from readmodel.applications import ApplicationRow
from readmodel.imports import DigestEntry, ImportedApplicationRow, ImportWriter
from readmodel.organisation import StaffRow, UnitRow
from readmodel.outbox_queue import OutboxQueue
from workflows.connection_application import ConnectionApplication

ImportMode = Literal["all", "rows"]
#: Applications written per transaction, and workflows being started at once.
BATCH = 250
START_CONCURRENCY = 48


class ImportReport(BaseModel):
    """What an import did. In `all` mode a refused file is a 422 problem instead."""

    mode: ImportMode
    imported: int = 0
    #: Already imported with the same record: nothing done.
    skipped: int = 0
    #: Already imported; the record's later events were added (`update=true`).
    updated: int = 0
    #: Of the imported ones, how many were already overdue (named in the digest).
    overdue: int = 0
    #: Workflows started (this import's, and an earlier run's that had not started).
    started: int = 0
    refused: list[ProblemError] = Field(default_factory=list)


def first_difference(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, bool] | None:
    """The first field where a re-imported record differs from the stored one, and whether
    the difference only adds later events (or ends the last hold); None when equal."""
    for key in sorted((set(old) | set(new)) - {"events", "holds"}):
        if old.get(key) != new.get(key):
            sub = _dict_difference(old.get(key), new.get(key))
            return (f"{key}.{sub}" if sub else key), False
    appended = False
    for name in ("events", "holds"):
        before, after = old.get(name, []), new.get(name, [])
        for i, item in enumerate(before):
            if i >= len(after):
                return f"{name}.{i}", False
            if item == after[i]:
                continue
            ended = name == "holds" and "to" not in item and {**item, "to": after[i].get("to")}
            if ended == after[i]:
                appended = True
                continue
            return f"{name}.{i}", False
        appended = appended or len(after) > len(before)
    return ("events", True) if appended else None


def _dict_difference(old: Any, new: Any) -> str | None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                return str(key)
    return None


class Importer:
    def __init__(self, engine: Engine, temporal: Client, settings: Settings) -> None:
        self._engine = engine
        self._temporal = temporal
        self._settings = settings
        self.writer = ImportWriter(engine)
        self._windows = SendWindows(settings.sms_progress_hours)
        self._staff: dict[str, list[StaffRow]] = {}
        self._unit_names: dict[str, str] = {}

    def live_numbers(self, numbers: Sequence[str]) -> set[str]:
        """Those of `numbers` that name an application created here, not imported."""
        found: set[str] = set()
        with Session(self._engine) as session:
            for i in range(0, len(numbers), 500):
                part = list(numbers[i : i + 500])
                found |= set(
                    session.exec(
                        select(ApplicationRow.application_no).where(
                            col(ApplicationRow.application_no).in_(part)
                        )
                    ).all()
                )
        return found

    async def import_new(
        self, items: Sequence[Prepared], now: datetime, report: ImportReport
    ) -> None:
        """Write and start the checked records, a batch at a time; the next batch is written
        while the previous one's workflows start."""
        starting: asyncio.Task[None] | None = None
        gate = asyncio.Semaphore(START_CONCURRENCY)
        for i in range(0, len(items), BATCH):
            batch = items[i : i + BATCH]
            overdue = await asyncio.to_thread(self._write, batch, now)
            report.imported += len(batch)
            report.overdue += overdue
            if starting is not None:
                await starting
            starting = asyncio.create_task(self._start_batch(batch, gate, report))
        if starting is not None:
            await starting

    def _write(self, batch: Sequence[Prepared], now: datetime) -> int:
        projections, rows, digest = [], [], []
        overdue = 0
        for p in batch:
            book = p.book
            ev = book.evaluate(now)
            current = row(book, ev)
            projections.append(
                projection_input(book, current, now, 0, book.timeline, book.warnings)
            )
            rows.append(self._import_row(p.record, now))
            entries = self._digest_entries(p, now)
            overdue += bool(entries)
            digest.extend(entries)
        self.writer.write_batch(projections, rows, digest, self._digest_text)
        return overdue

    @staticmethod
    def _import_row(record: ImportRecord, now: datetime) -> ImportedApplicationRow:
        return ImportedApplicationRow(
            application_no=record.application_no,
            unit=record.unit,
            source_ref=record.source_ref,
            record=normalised(record),
            imported_at=now,
            updated_at=now,
        )

    def _digest_entries(self, p: Prepared, now: datetime) -> list[DigestEntry]:
        """The recipients of the application's open imported warnings, each named once."""
        book = p.book
        level = book.warning_level()
        if level is None:
            return []
        app = book.application
        unit = app.profile.unit
        window = self._windows(unit, "warning", now, join_open=False)
        staff = self._staff_of(unit, app.customer_manager)
        entries: dict[str, DigestEntry] = {}
        for notice in warning_notices(book, book.evaluate(now), 0):
            if not any(w.open and w.imported for w in book.warnings if w.monitor == notice.monitor):
                continue
            res = select_recipients(
                staff, unit, notice.roles, app.customer_manager, notice_departments(notice)
            )
            for r in res.recipients:
                try:
                    phone = normalize_mobile(r.phone)
                except ValueError:
                    continue
                entries.setdefault(
                    phone,
                    DigestEntry(
                        unit=unit,
                        phone=phone,
                        role=r.roles[0],
                        staff_code=r.staff_code,
                        send_after=window[0],
                        send_before=window[1],
                        application_no=app.application_no,
                        level=level,
                    ),
                )
        return list(entries.values())

    def _staff_of(self, unit: str, customer_manager: str | None) -> list[StaffRow]:
        key = f"{unit}\n{customer_manager or ''}"
        if key not in self._staff:
            self._staff[key] = OutboxQueue(self._engine).candidate_staff(unit, customer_manager)
        return self._staff[key]

    def _digest_text(self, unit: str, overdue: list[tuple[str, str]]) -> str:
        if unit not in self._unit_names:
            with Session(self._engine) as session:
                found = session.get(UnitRow, unit)
            self._unit_names[unit] = labels.UNITS.get(unit) or (found.name if found else unit)
        return render_import_digest(self._unit_names[unit], overdue)

    async def _start_batch(
        self, batch: Sequence[Prepared], gate: asyncio.Semaphore, report: ImportReport
    ) -> None:
        async def one(p: Prepared) -> str | None:
            async with gate:
                return await self.start(p)

        started = await asyncio.gather(*(one(p) for p in batch))
        numbers = [n for n in started if n is not None]
        await asyncio.to_thread(self.writer.mark_started, numbers)
        report.started += len(numbers)

    async def start(self, p: Prepared) -> str | None:
        """Start the imported application's workflow; its number, or None if it exists."""
        start = p.start
        inp = start.application
        assert start.history is not None
        current = row(p.book, p.book.evaluate(start.history.imported_at))
        pairs: list[SearchAttributePair[Any]] = list(
            initial_search_attributes(inp, current.stage).search_attributes
        )
        given = {pair.key.name for pair in pairs}
        for name, (key, value) in search_attributes(p.book, current).items():
            if name not in given and value is not None:
                pairs.append(SearchAttributePair(key, value))
        try:
            await self._temporal.start_workflow(
                ConnectionApplication.run,
                start,
                id=workflow_id(inp.application_no),
                task_queue=self._settings.temporal_task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                search_attributes=TypedSearchAttributes(pairs),
                static_summary=ui_summary(inp, self._unit_names.get(inp.profile.unit)),
            )
        except WorkflowAlreadyStartedError:
            return None
        return inp.application_no


def refused(errors: Sequence[RowError]) -> list[ProblemError]:
    return [ProblemError(field=e.field, reason=e.reason, row=e.row) for e in errors]


def added_events(
    old: ImportRecord, new: ImportRecord, now: datetime
) -> list[tuple[RecordedEvent, str]]:
    """The events and hold ends the re-imported record adds to the stored one, in order."""
    before, _, _ = past_stream(old, now)
    after, fields, _ = past_stream(new, now)
    known = {(e.event, e.at) for e in before}
    return [(e, f) for e, f in zip(after, fields, strict=True) if (e.event, e.at) not in known]


async def append_events(
    temporal: Client, number: str, added: Sequence[tuple[RecordedEvent, str]], actor: str
) -> tuple[str, Refusal] | None:
    """Record the added events on the running workflow, as staff would, in order; the first
    refusal (with the record's field) stops it."""
    handle = temporal.get_workflow_handle_for(ConnectionApplication.run, workflow_id(number))
    for e, field in added:
        try:
            if e.event in (PAUSE_EVENT, RESUME_EVENT):
                hold = HoldRequest(
                    reason=e.reason or "-", at=e.at, by=e.by, actor=actor, origin="imported"
                )
                update = (
                    ConnectionApplication.pause
                    if e.event == PAUSE_EVENT
                    else ConnectionApplication.resume
                )
                await handle.execute_update(update, hold, id=f"import:{number}:{field}:{e.at}")
            else:
                req = RecordEventRequest(
                    event=e.event, at=e.at, by=e.by, note=e.note, actor=actor, origin="imported"
                )
                await handle.execute_update(
                    ConnectionApplication.record_event, req, id=f"import:{number}:{field}:{e.at}"
                )
        except WorkflowUpdateFailedError as exc:
            refusal = Refusal.from_details(getattr(exc.cause, "details", None))
            return field, refusal or Refusal.one("conflict", "event", str(exc.cause)[:200])
    return None
