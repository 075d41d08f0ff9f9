"""Reconciliation: the read model compared with the workflows' state, the rows that drifted
repaired through the projection's own idempotent write (readmodel/projection.py), and a report
of what was found and fixed.

- A running application's truth is its workflow's `status` query.
- A closed one's is the final status its last write left in the read model; a closed
  application whose row lacks it (or is missing) is asked once more: a worker replays it to
  answer, while the server still keeps its history.
- A row without any workflow is reported, never deleted (its history may have been deleted
  by retention; the row is then all that is left).

The workflows are listed by visibility (`WorkflowType = "ConnectionApplication"`), so a workflow
the read model never heard of is found too; its customer comes from its start input.

`python -m readmodel.reconcile [--dry-run]` runs it against the configured Temporal and
database; the API's `POST /api/operations/reconcile` does the same.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, select
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.service import RPCError

from contracts.application import (
    ApplicationStart,
    ApplicationStatus,
    Customer,
    ProjectionInput,
    workflow_id,
)
from readmodel.applications import ApplicationRow, TimelineRow, WarningRow
from readmodel.projection import ProjectionWriter

log = logging.getLogger("readmodel.reconcile")

WORKFLOW_TYPE = "ConnectionApplication"
ID_PREFIX = workflow_id("")
#: Status queries in flight at once: each one is a workflow task on some worker.
CONCURRENCY = 16
#: A query nobody answers (no worker polls the queue) is given up after this.
QUERY_TIMEOUT = timedelta(seconds=10)
#: The row's columns compared with the workflow's answer.
FIELDS = ("state", "stage", "warning_level", "next_due_at", "too_short", "provisional")

DriftKind = Literal["missing", "stale", "not_final"]


class Drift(BaseModel):
    application_no: str
    kind: DriftKind = Field(
        description="missing: no row; stale: the row differs from the workflow; not_final: "
        "closed, but the row lacks its final status"
    )
    #: The columns that differed ("timeline", "warnings" for those tables).
    fields: list[str] = Field(default_factory=list)
    repaired: bool = False


class ReconcileReport(BaseModel):
    checked: int = Field(description="Applications with a workflow, running or closed")
    running: int
    closed: int
    drifted: list[Drift] = Field(default_factory=list)
    #: Rows whose application has no workflow (kept as they are).
    orphans: list[str] = Field(default_factory=list)
    #: Applications whose state could not be read (no worker answered; history gone), or
    #: whose workflow ended without closing its book (terminated, failed, timed out).
    unreadable: list[str] = Field(default_factory=list)
    dry_run: bool = False

    @property
    def repaired(self) -> int:
        return sum(d.repaired for d in self.drifted)


class _Stored:
    """What the read model holds of one application."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.timeline = 0
        self.warnings: set[tuple[str, str, bool]] = set()


async def reconcile(
    client: Client, engine: Engine, *, task_queue: str | None = None, dry_run: bool = False
) -> ReconcileReport:
    """`task_queue`: only the applications started on it (the deployment's), else all."""
    workflows = await _list_workflows(client, task_queue)
    stored = await asyncio.to_thread(_load, engine)
    writer = ProjectionWriter(engine)
    gate = asyncio.Semaphore(CONCURRENCY)
    report = ReconcileReport(checked=len(workflows), running=0, closed=0, dry_run=dry_run)
    for status in workflows.values():
        if status == WorkflowExecutionStatus.RUNNING:
            report.running += 1
        else:
            report.closed += 1

    async def one(no: str, status: WorkflowExecutionStatus) -> None:
        async with gate:
            await _check(client, writer, no, status, stored.get(no), report, dry_run)

    await asyncio.gather(*(one(no, st) for no, st in sorted(workflows.items())))
    report.orphans = sorted(set(stored) - set(workflows))
    report.drifted.sort(key=lambda d: d.application_no)
    report.unreadable.sort()
    log.info(
        "reconciled %d applications: %d drifted, %d repaired, %d orphan rows, %d unreadable",
        report.checked,
        len(report.drifted),
        report.repaired,
        len(report.orphans),
        len(report.unreadable),
    )
    return report


async def _list_workflows(
    client: Client, task_queue: str | None
) -> dict[str, WorkflowExecutionStatus]:
    """Application number → the status of its latest run (runs continued as new skipped)."""
    found: dict[str, WorkflowExecutionStatus] = {}
    query = f'WorkflowType = "{WORKFLOW_TYPE}"'
    if task_queue:
        query += f' AND TaskQueue = "{task_queue}"'
    async for wf in client.list_workflows(query):
        if wf.status in (None, WorkflowExecutionStatus.CONTINUED_AS_NEW):
            continue
        if not wf.id.startswith(ID_PREFIX):
            continue
        no = wf.id[len(ID_PREFIX) :]
        if found.get(no) != WorkflowExecutionStatus.RUNNING:
            found[no] = wf.status
    return found


def _load(engine: Engine) -> dict[str, _Stored]:
    app = ApplicationRow.__table__  # type: ignore[attr-defined]
    timeline = TimelineRow.__table__  # type: ignore[attr-defined]
    warning = WarningRow.__table__  # type: ignore[attr-defined]
    out: dict[str, _Stored] = {}
    with engine.connect() as conn:
        for r in conn.execute(select(app)).mappings():
            out[r["application_no"]] = _Stored(dict(r))
        counts = select(timeline.c.application_no, func.count()).group_by(timeline.c.application_no)
        for no, n in conn.execute(counts):
            if no in out:
                out[no].timeline = n
        for no, monitor, level, is_open in conn.execute(
            select(warning.c.application_no, warning.c.monitor, warning.c.level, warning.c.open)
        ):
            if no in out:
                out[no].warnings.add((monitor, level, bool(is_open)))
    return out


async def _check(
    client: Client,
    writer: ProjectionWriter,
    no: str,
    status: WorkflowExecutionStatus,
    stored: _Stored | None,
    report: ReconcileReport,
    dry_run: bool,
) -> None:
    running = status == WorkflowExecutionStatus.RUNNING
    if not running and status != WorkflowExecutionStatus.COMPLETED:
        report.unreadable.append(no)
        return
    final = stored.row.get("final_status") if stored else None
    if not running and final is not None:
        # Closed: the final status it wrote is the truth; the row must agree with it.
        truth = ApplicationStatus.model_validate(final)
    else:
        try:
            truth = await client.get_workflow_handle(workflow_id(no)).query(
                "status", result_type=ApplicationStatus, rpc_timeout=QUERY_TIMEOUT
            )
        except (RPCError, WorkflowQueryFailedError) as exc:
            # A query the worker failed (e.g. a task over the deadlock timeout on an overloaded
            # host) makes this one application unreadable, not the whole reconciliation.
            reason = exc.message if isinstance(exc, RPCError) else str(exc)
            log.warning("reconcile: %s unreadable: %s", no, reason, extra={"application_no": no})
            report.unreadable.append(no)
            return
    drift = _drift(no, truth, stored, closed=not running)
    if drift is None:
        return
    report.drifted.append(drift)
    if dry_run:
        return
    customer = _customer(stored) if stored else await _start_customer(client, no)
    await asyncio.to_thread(writer.write, _projection(truth, customer, closed=not running))
    drift.repaired = True
    log.info("reconcile: %s %s repaired (%s)", no, drift.kind, ", ".join(drift.fields),
             extra={"application_no": no})  # fmt: skip


def _drift(
    no: str, truth: ApplicationStatus, stored: _Stored | None, *, closed: bool
) -> Drift | None:
    if stored is None:
        return Drift(application_no=no, kind="missing", fields=["application"])
    want = _row_fields(truth)
    differ = [f for f in FIELDS if not _same(stored.row[f], want[f])]
    if stored.timeline != len(truth.timeline):
        differ.append("timeline")
    if stored.warnings != {(w.monitor, w.level, w.open) for w in truth.warnings}:
        differ.append("warnings")
    if closed and stored.row.get("final_status") is None:
        return Drift(application_no=no, kind="not_final", fields=[*differ, "final_status"])
    return Drift(application_no=no, kind="stale", fields=differ) if differ else None


def _row_fields(s: ApplicationStatus) -> dict[str, Any]:
    return {
        "state": s.state,
        "stage": s.stage,
        "warning_level": s.warning_level,
        "next_due_at": s.next_due_at if s.state == "running" else None,
        "too_short": bool(s.too_short),
        "provisional": s.provisional,
    }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.astimezone(UTC) == b.astimezone(UTC)
    return bool(a == b)


def _customer(stored: _Stored) -> Customer:
    return Customer.model_construct(
        name=stored.row["customer_name"], phone=stored.row["customer_phone"]
    )


async def _start_customer(client: Client, no: str) -> Customer:
    """The customer as the workflow's (latest run's) start input names it."""
    async for event in client.get_workflow_handle(workflow_id(no)).fetch_history_events():
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        [start] = await client.data_converter.decode(payloads, [ApplicationStart])
        assert isinstance(start, ApplicationStart)
        return start.application.customer
    raise RuntimeError(f"workflow {workflow_id(no)} has no history")


def _projection(truth: ApplicationStatus, customer: Customer, *, closed: bool) -> ProjectionInput:
    return ProjectionInput(
        application_no=truth.application_no,
        profile=truth.profile,
        customer=customer,
        customer_manager=truth.customer_manager,
        updated_at=truth.as_of or datetime.now(UTC),
        **_row_fields(truth),
        timeline_offset=0,
        timeline=truth.timeline,
        warnings=truth.warnings,
        final_status=truth if closed else None,
    )


def summary(report: ReconcileReport) -> dict[str, Any]:
    by_kind: dict[str, list[str]] = defaultdict(list)
    for d in report.drifted:
        by_kind[d.kind].append(d.application_no)
    return {
        "checked": report.checked,
        "running": report.running,
        "closed": report.closed,
        "repaired": report.repaired,
        "drifted": dict(by_kind),
        "orphans": report.orphans,
        "unreadable": report.unreadable,
        "dry_run": report.dry_run,
    }


async def _main(argv: Iterable[str] | None = None) -> int:
    from core.config import get_settings
    from core.db import get_engine
    from core.logging import configure_logging
    from core.temporal import connect

    parser = argparse.ArgumentParser(prog="python -m readmodel.reconcile", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="report only, repair nothing")
    args = parser.parse_args(list(argv) if argv is not None else None)
    settings = get_settings()
    configure_logging(settings.log_level)
    report = await reconcile(
        await connect(settings),
        get_engine(settings),
        task_queue=settings.temporal_task_queue,
        dry_run=args.dry_run,
    )
    print(json.dumps(summary(report), ensure_ascii=False, indent=1))
    return 1 if report.unreadable else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(_main()))
