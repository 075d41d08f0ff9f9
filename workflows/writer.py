"""Keeping the outside world current: the application's writes to the read model and the
messages it hands to the outbox, as local activities of the ConnectionApplication workflow.

The cursors (how much of the timeline was written, how many warnings and which customer
progress messages were handed over) are the workflow's, not the domain's: they say what this
workflow did, and they travel to the next run at continue-as-new in the carried state.

Workflow code, passed through the sandbox and loaded once (see domain.views); deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from activities.changes import ChangeActivities
from activities.notifications import NotificationActivities
from activities.projection import ProjectionActivities
from contracts.application import (
    ApplicationStart,
    CarriedState,
    ChangeInput,
    RaisedWarning,
    TimelineEntry,
    WarningNotice,
)
from domain.ledger import ApplicationLedger
from domain.notices import progress_due, warning_notices
from domain.views import Row, projection_input
from policies.engine import Evaluation

PROJECTION_TIMEOUT = timedelta(seconds=30)
# The database may be down for a while; the projection keeps trying rather than losing a write.
PROJECTION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
NOTIFY_TIMEOUT = timedelta(seconds=30)
# Handing a warning to the outbox must eventually succeed: retry as long as it takes.
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)
# One write per change (record_change), retried as the projection is: a change that raises
# many warnings at once queues all their messages in it, hence the longer limit.
CHANGE_TIMEOUT = timedelta(minutes=2)
# A local activity's retries hold the workflow task (heartbeated) for as long as they last: past
# about two minutes the workflow stops retrying in the task, says it is waiting on the database,
# and tries again on a durable timer, which a worker restart or a long outage does not lose.
# Both bounds are needed: the SDK ends a local activity at its schedule-to-close only when an
# attempt is running then, not when the deadline falls in the backoff between two attempts
# (observed with temporalio 1.35), which is where a database that refuses connections at once
# leaves it; the attempt count bounds that case (1+2+4+8+16+30+30 s of backoff).
WRITE_LIMIT = timedelta(minutes=2)
BOUNDED_WRITE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=8,
)
RETRY_WRITE_EVERY = timedelta(minutes=1)
#: What the workflow waits on while its writes fail (ApplicationStatus.waiting_on).
DATABASE = "database"


@dataclass
class ChangeWriter:
    """What of the application the read model and the outbox already have, and the local
    activities that bring them up to date (idempotent: a retry or a replay repeats nothing)."""

    #: Timeline entries written to the read model.
    projected_timeline: int = 0
    #: Warnings handed to the notifications (the first `notified_warnings` of the ledger's).
    notified_warnings: int = 0
    #: Customer progress messages handed over (accepted, plan_replied, energized).
    progress_sent: list[str] = field(default_factory=list)
    #: How the workflow writes, by when it started (workflow.patched at the run's start).
    one_write: bool = True
    notify: bool = True
    bounded: bool = True
    #: Set while the writes fail past WRITE_LIMIT (DATABASE), None otherwise.
    waiting_on: str | None = None
    _row: Row | None = None
    _warnings: dict[tuple[str, str], bool] = field(default_factory=dict)
    #: The departments a coordination warning of a code chases (the open notices'), when the
    #: workflow issues notices.
    departments_for: Callable[[str], list[str]] | None = None

    @classmethod
    def carried_from(cls, start: ApplicationStart) -> ChangeWriter:
        c = start.carried
        if c is None:
            return cls()
        return cls(
            projected_timeline=c.projected_timeline,
            notified_warnings=c.notified_warnings,
            progress_sent=list(c.progress_sent),
        )

    def imported(self, book: ApplicationLedger, current: Row, at: datetime) -> None:
        """What the import already wrote for an imported application at `at`: its row, its
        timeline and warnings (the past ones are never sent: the digest names them), and the
        customer progress messages for moments already past (never sent late)."""
        self._row = current
        self.projected_timeline = len(book.timeline)
        self.notified_warnings = len(book.warnings)
        self._warnings = {(w.monitor, w.level): w.open for w in book.warnings}
        self.progress_sent = [p.kind for p in progress_due(book, []) if p.at <= at]

    def carry(self, carried: CarriedState) -> CarriedState:
        """The ledger's carried state with this writer's cursors, for the next run."""
        return carried.model_copy(
            update={
                "projected_timeline": self.projected_timeline,
                "notified_warnings": self.notified_warnings,
                "progress_sent": self.progress_sent,
            }
        )

    async def write(
        self,
        book: ApplicationLedger,
        ev: Evaluation,
        current: Row,
        show_waiting: Callable[[], None],
    ) -> None:
        if self.one_write:
            await self._record_change(book, ev, current, show_waiting)
            return
        # First the read model (the warning is visible at once), then the messages.
        await self._project(book, current)
        if self.notify:
            await self._notify(book, ev)

    async def _record_change(
        self,
        book: ApplicationLedger,
        ev: Evaluation,
        current: Row,
        show_waiting: Callable[[], None],
    ) -> None:
        """The change's read-model write and outbox messages in one local activity (one
        history marker); every part of it is idempotent."""
        sent, new_entries = self._unwritten(book)
        warnings = self._chase(warning_notices(book, ev, self.notified_warnings))
        progress = progress_due(book, self.progress_sent)
        unchanged = current == self._row and not sent and not new_entries
        if unchanged and not warnings and not progress:
            return
        change = ChangeInput(
            application_no=book.application.application_no,
            projection=(
                None
                if unchanged
                else projection_input(
                    book, current, workflow.now(), self.projected_timeline, new_entries, sent
                )
            ),
            warnings=warnings,
            progress=progress,
        )
        # A payload of its own: worth it only where operators look for it, at a warning.
        summary = ", ".join(f"{w.level} warning: {w.code}" for w in warnings) or None
        while not await self._try_record(change, summary):
            if self.waiting_on is None:
                self.waiting_on = DATABASE
                show_waiting()
            await workflow.sleep(RETRY_WRITE_EVERY, summary="retry the writes to the database")
        if self.waiting_on is not None:
            self.waiting_on = None
            show_waiting()
        self._written(current, sent, new_entries)
        self.notified_warnings += len(warnings)
        self.progress_sent.extend(p.kind for p in progress)

    async def _try_record(self, change: ChangeInput, summary: str | None) -> bool:
        """One bounded round of attempts (False when it ran out); before the bounded writes,
        attempts without end."""
        try:
            await workflow.execute_local_activity_method(
                ChangeActivities.record_change,
                change,
                start_to_close_timeout=CHANGE_TIMEOUT,
                schedule_to_close_timeout=WRITE_LIMIT if self.bounded else None,
                retry_policy=BOUNDED_WRITE_RETRY if self.bounded else PROJECTION_RETRY,
                summary=summary,
            )
        # A local activity's last failure comes as itself (ApplicationError) when its attempts
        # ran out, wrapped (ActivityError) when its schedule-to-close did.
        except (ActivityError, ApplicationError) as exc:
            if not self.bounded:
                raise
            cause = exc.cause if isinstance(exc, ActivityError) else exc
            workflow.logger.warning(
                "writes to the database failed (%s); retrying in %s",
                type(cause).__name__,
                RETRY_WRITE_EVERY,
            )
            return False
        return True

    def _unwritten(
        self, book: ApplicationLedger
    ) -> tuple[list[RaisedWarning], list[TimelineEntry]]:
        """The warnings and timeline entries not yet written."""
        # Copies: handlers may change the ledger while the write runs.
        sent = [
            w.model_copy()
            for w in book.warnings
            if self._warnings.get((w.monitor, w.level)) != w.open
        ]
        return sent, book.timeline[self.projected_timeline :]

    def _written(
        self, current: Row, sent: list[RaisedWarning], new_entries: list[TimelineEntry]
    ) -> None:
        self._row = current
        self.projected_timeline += len(new_entries)
        for w in sent:
            self._warnings[(w.monitor, w.level)] = w.open

    async def _notify(self, book: ApplicationLedger, ev: Evaluation) -> None:
        """Before the one write per change: new warnings and customer progress to the outbox,
        a local activity each, retried until they succeed; the outbox's unique key makes a
        repeat a no-op."""
        for notice in self._chase(warning_notices(book, ev, self.notified_warnings)):
            await workflow.execute_local_activity_method(
                NotificationActivities.enqueue_warning,
                notice,
                start_to_close_timeout=NOTIFY_TIMEOUT,
                retry_policy=NOTIFY_RETRY,
                summary=f"{notice.level} warning: {notice.code}",
            )
            self.notified_warnings += 1
        for progress in progress_due(book, self.progress_sent):
            await workflow.execute_local_activity_method(
                NotificationActivities.enqueue_progress,
                progress,
                start_to_close_timeout=NOTIFY_TIMEOUT,
                retry_policy=NOTIFY_RETRY,
                summary=f"customer progress: {progress.kind}",
            )
            self.progress_sent.append(progress.kind)

    def _chase(self, warnings: list[WarningNotice]) -> list[WarningNotice]:
        if self.departments_for is None:
            return warnings
        out: list[WarningNotice] = []
        for w in warnings:
            departments = self.departments_for(w.code) if w.coordination else []
            out.append(w.model_copy(update={"departments": departments}) if departments else w)
        return out

    async def _project(self, book: ApplicationLedger, current: Row) -> None:
        """Before the one write per change: the projection as a local activity of its own."""
        sent, new_entries = self._unwritten(book)
        if current == self._row and not sent and not new_entries:
            return
        await workflow.execute_local_activity_method(
            ProjectionActivities.project_application,
            projection_input(
                book, current, workflow.now(), self.projected_timeline, new_entries, sent
            ),
            start_to_close_timeout=PROJECTION_TIMEOUT,
            retry_policy=PROJECTION_RETRY,
        )
        self._written(current, sent, new_entries)
