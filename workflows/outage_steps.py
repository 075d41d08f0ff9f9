"""Outage scheduling's steps in the ConnectionApplication workflow: schedule the outage once
energization is possible (domain.outages), take dispatch's answer (送(停)电计划反馈), schedule
again when dispatch rejects it, and settle the outage when the application is energized or
cancelled.

The outage is placed by an activity (activities.outages.OutageActivities.schedule_outage), so
the slot, the joined outage and the notices are in the history as its result; this holds the
current record (status, carried state). One outage step at a time: the main loop's and the
update's steps share a lock.

Workflow code, passed through the sandbox and loaded once; deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Literal

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from activities.outages import OutageActivities
from contracts.application import RecordEventRequest
from contracts.errors import Refusal, refusal_error
from contracts.outages import (
    LIVE_STATES,
    OutageAnswer,
    OutageJob,
    OutageRecord,
    OutageSettle,
)
from domain.ledger import ApplicationLedger
from domain.outages import decided_plan, energization_possible_at, live_line_flag
from domain.refusals import Refused
from domain.rules import application_running, check_event
from policies.engine import Evaluation
from workflows.background import BackgroundSteps

#: Running applications started before outages were scheduled in the workflow replay without.
OUTAGE_PATCH = "outage-scheduling"
OUTAGE_TIMEOUT = timedelta(minutes=1)
# The database may be down for a while: keep trying. No slot within the horizon is final.
OUTAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["NoSlot"],
)
SUBMITTED = "outage_plan.started"
FEEDBACK = "outage_plan.completed"
ENERGIZED = "energize.completed"


def check_answer(book: ApplicationLedger, record: OutageRecord | None, req: OutageAnswer) -> None:
    """Dispatch answers the application's outage (or one it replaced already: a repeat)."""
    refusal = application_running(book)
    if refusal is not None:
        raise refusal_error(refusal)
    if record is None:
        raise refusal_error(Refusal.one("conflict", "outage", "the application has no outage"))
    if req.outage_id != record.id and req.outage_id not in record.replaced:
        raise refusal_error(
            Refusal.one(
                "conflict", "outage_id", f"the application's outage is {record.id}, not that one"
            )
        )


def outage_job(
    book: ApplicationLedger,
    ev: Evaluation,
    rejected: OutageRecord | None = None,
    reason: str | None = None,
) -> OutageJob | None:
    """What the activity is asked, or None while the outage is not due: no decided plan, or
    energization not yet possible."""
    record = book.plan
    if record is None or not decided_plan(record):
        return None
    possible = energization_possible_at(ev)
    if possible is None:
        return None
    return OutageJob(
        application_no=book.application.application_no,
        unit=book.application.profile.unit,
        plan=record,
        possible_at=possible,
        at=workflow.now(),
        calendar=book.calendars[-1].snapshot,
        rejected=rejected.id if rejected is not None else None,
        rejected_reason=reason,
    )


class OutageSteps(BackgroundSteps):
    def __init__(self, carried: OutageRecord | None = None) -> None:
        super().__init__()
        #: Whether this run schedules outages (workflow.patched at the run's start).
        self.enabled = False
        self.record = carried
        #: Why no slot could be found (the activity's final error), not retried in this run.
        self.unscheduled: str | None = None
        #: The application has left its outage (energized): other applications may still
        #: wait for it, so its state stays the plan's.
        self._settled = False

    def start(
        self, book: ApplicationLedger, ev: Evaluation | None, wake: Callable[[], None]
    ) -> None:
        """Schedule (or settle) in the background when due; `wake` when the record changed."""
        if not self.enabled or self._task is not None or book.state != "running" or ev is None:
            return
        record = self.record
        if record is None:
            if self.unscheduled is None and outage_job(book, ev) is not None:
                self._in_background(self._schedule(book, ev), wake)
            return
        flag = live_line_flag(record, book.plan, workflow.now())
        if flag is not None:
            self.record = record.model_copy(update={"flags": [*record.flags, flag]})
            wake()
        energized = any(e.event == ENERGIZED for e in book.events)
        if energized and not self._settled and record.state in LIVE_STATES:
            self._in_background(self._settle(book, "energized"), wake)

    async def close(self, book: ApplicationLedger) -> None:
        """A cancelled application leaves its outage (cancelled when nobody else needs it)."""
        await self.settled()
        if self.enabled and book.state == "cancelled" and self.record is not None:
            # _settle leaves a settled or past outage alone.
            await self._settle(book, "cancelled")

    async def _schedule(self, book: ApplicationLedger, ev: Evaluation) -> bool:
        async with self._lock:
            if self.record is not None:
                return False
            job = outage_job(book, ev)
            if job is None:
                return False
            record = await self._run(job)
            if record is None:
                return False
            self.record = record
            self._submitted(book, record)
            return True

    async def _run(self, job: OutageJob) -> OutageRecord | None:
        try:
            record: OutageRecord = await workflow.execute_activity_method(
                OutageActivities.schedule_outage,
                job,
                start_to_close_timeout=OUTAGE_TIMEOUT,
                retry_policy=OUTAGE_RETRY,
                summary="outage" + (f" after {job.rejected}" if job.rejected else ""),
            )
        except ActivityError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == "NoSlot":
                self.unscheduled = cause.message
                return None
            raise
        return record

    def _submitted(self, book: ApplicationLedger, record: OutageRecord) -> None:
        """The plan went to dispatch: its 送(停)电计划 clock starts (where the stage applies)."""
        self._record_event(book, SUBMITTED, f"outage {record.id} ({record.tier})", None)

    def _record_event(self, book: ApplicationLedger, name: str, note: str, by: str | None) -> None:
        if name.partition(".")[0] in book.skipped or any(e.event == name for e in book.events):
            return
        req = RecordEventRequest(event=name, at=workflow.now(), by=by, note=note)
        try:
            recorded = check_event(book, req, workflow.now())
        except Refused as exc:
            workflow.logger.info("outage event %s not recorded: %s", name, exc.refusal.errors)
            return
        book.add_event(recorded)

    async def answer(self, book: ApplicationLedger, req: OutageAnswer) -> OutageRecord:
        async with self._lock:
            check_answer(book, self.record, req)
            record = self.record
            assert record is not None
            if req.outage_id != record.id:
                return record
            if req.decision == "approved":
                return self._approved(book, record, req)
            job = outage_job(book, book.evaluate(workflow.now()), record, req.reason)
            if job is None:
                raise refusal_error(
                    Refusal.one("conflict", "outage", "the application's outage is not due")
                )
            again = await self._run(job)
            if again is None:
                raise refusal_error(
                    Refusal.one("conflict", "outage", self.unscheduled or "no slot left")
                )
            self.record = again.model_copy(update={"replaced": [*record.replaced, record.id]})
            return self.record

    def _approved(
        self, book: ApplicationLedger, record: OutageRecord, req: OutageAnswer
    ) -> OutageRecord:
        if record.state != "approved":
            note = f"outage {record.id} approved by dispatch"
            self._record_event(book, FEEDBACK, note, req.by)
            self.record = record.model_copy(
                update={"state": "approved", "decided_at": req.at, "reason": req.reason}
            )
        assert self.record is not None
        return self.record

    async def _settle(
        self, book: ApplicationLedger, outcome: Literal["energized", "cancelled"]
    ) -> bool:
        async with self._lock:
            record = self.record
            if record is None or self._settled or record.state not in LIVE_STATES:
                return False
            settled: OutageRecord | None = await workflow.execute_activity_method(
                OutageActivities.settle_outage,
                OutageSettle(
                    application_no=book.application.application_no,
                    outage_id=record.id,
                    outcome=outcome,
                    at=workflow.now(),
                ),
                start_to_close_timeout=OUTAGE_TIMEOUT,
                retry_policy=OUTAGE_RETRY,
                summary=f"settle outage {record.id} ({outcome})",
            )
            self._settled = True
            if settled is not None:
                self.record = settled.model_copy(
                    update={
                        "replaced": record.replaced,
                        "flags": record.flags or settled.flags,
                        "explanation": record.explanation,
                    }
                )
            return True
