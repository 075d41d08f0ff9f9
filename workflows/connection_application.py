"""ConnectionApplication: one long-running workflow per grid-connection application.

Thin by design: the application's book (domain.ledger) decides; this class holds
the Temporal side. One durable timer waits for the earliest pending threshold of all monitors;
events, holds and calendar changes re-plan it. The database projection is a local activity
(one marker in history instead of an activity's five events) and idempotent.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate

# Names from modules, never `from package import module`: a submodule imported that way is not
# passed through but executed again for every workflow (tests/test_sandbox_imports.py).
with workflow.unsafe.imports_passed_through():
    from activities.changes import ChangeActivities
    from activities.notifications import NotificationActivities
    from activities.projection import ProjectionActivities
    from calendars.snapshot import CalendarSnapshot
    from contracts.application import (
        ApplicationOutcome,
        ApplicationStart,
        ApplicationStatus,
        CancelRequest,
        ChangeInput,
        HoldRequest,
        RaisedWarning,
        RecordedEvent,
        RecordEventRequest,
        TimelineEntry,
        UpdateResult,
    )
    from domain.ledger import ApplicationLedger
    from domain.views import Row, details, projection_input, row, search_attributes
    from policies.codes import PAUSE_EVENT, RESUME_EVENT
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
# Histories recorded before warnings were handed to notifications replay without the calls.
# Asked once, first thing in a run: a patch check placed after a local activity can fall into
# another workflow task on replay when that activity ran long (the task was heartbeated).
NOTIFY_PATCH = "notify-checked-at-run-start"
# Histories recorded before a change's writes were combined into one local activity
# (record_change) replay with the separate projection and notification activities.
ONE_WRITE_PATCH = "one-write-per-change"
# Histories recorded before the State search attribute replay without its upserts.
STATE_PATCH = "state-search-attribute"
# Continue-as-new well before Temporal's 50k-event limit; the server's suggestion also counts.
CONTINUE_AS_NEW_AFTER = 5_000


@workflow.defn
class ConnectionApplication:
    @workflow.init
    def __init__(self, start: ApplicationStart) -> None:
        self._start = start
        self._book = ApplicationLedger(start)
        self._dirty = False
        # The one durable wait for the earliest pending threshold (None: nothing pending).
        self._timer: asyncio.Task[None] | None = None
        self._eval: Evaluation | None = None
        self._search: dict[str, Any] = {}
        self._projected_row: Row | None = None
        # The row the search attributes and the UI details were last computed for.
        self._shown_row: Row | None = None
        self._projected_warnings: dict[tuple[str, str], bool] = {}
        self._notify_enabled = False
        self._one_write = False
        self._state_attribute = False

    @workflow.run
    async def run(self, start: ApplicationStart) -> ApplicationOutcome:
        self._notify_enabled = workflow.patched(NOTIFY_PATCH)
        self._one_write = workflow.patched(ONE_WRITE_PATCH)
        self._state_attribute = workflow.patched(STATE_PATCH)
        timer_due: datetime | None = None
        await self._sync()
        while self._book.state == "running":
            due = self._eval.next_due_at if self._eval else None
            if due != timer_due:
                if self._timer is not None:
                    self._timer.cancel()
                self._timer, timer_due = None, due
                if due is not None:
                    # A threshold already due was raised by the sync above; never sleep 0.
                    delay = max(due - workflow.now(), timedelta(milliseconds=1))
                    # No timer summary: the current details already name the next threshold,
                    # and every summary is a payload the worker encodes on each re-plan.
                    self._timer = asyncio.create_task(workflow.sleep(delay))
            # One condition for both wake-ups (a change, the timer): no task per iteration.
            await workflow.wait_condition(self._woken)
            if self._timer is not None and self._timer.done():
                self._timer, timer_due = None, None
            self._dirty = False
            await self._sync()
            if self._book.state == "running" and self._history_is_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    ApplicationStart(
                        application=start.application,
                        policy=start.policy,
                        calendar=start.calendar,
                        carried=self._book.carried(),
                        continue_as_new_after=start.continue_as_new_after,
                    )
                )
        if self._timer is not None:
            self._timer.cancel()
        await self._sync()
        # An update handler may still be running; completing now would fail its caller.
        await workflow.wait_condition(workflow.all_handlers_finished)
        # A short result: the full final status went to the read model with the last write.
        return self._book.outcome(self._book.evaluate(workflow.now()))

    def _woken(self) -> bool:
        timer = self._timer
        return self._dirty or (timer is not None and timer.done()) or self._book.state != "running"

    def _history_is_long(self) -> bool:
        info = workflow.info()
        limit = self._start.continue_as_new_after or CONTINUE_AS_NEW_AFTER
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > limit

    # -- queries, updates, signals ------------------------------------------------------------

    @workflow.query
    def status(self) -> ApplicationStatus:
        return self._book.status(self._book.evaluate(workflow.now()))

    @workflow.update
    def record_event(self, req: RecordEventRequest) -> UpdateResult:
        recorded = self._book.check_event(req, workflow.now())
        self._book.add_event(recorded)
        return self._changed(recorded)

    @record_event.validator
    def _validate_event(self, req: RecordEventRequest) -> None:
        self._book.check_event(req, workflow.now())

    @workflow.update
    def pause(self, req: HoldRequest) -> UpdateResult:
        recorded = self._book.check_hold(PAUSE_EVENT, req, workflow.now())
        self._book.add_event(recorded)
        return self._changed(recorded)

    @pause.validator
    def _validate_pause(self, req: HoldRequest) -> None:
        self._book.check_hold(PAUSE_EVENT, req, workflow.now())

    @workflow.update
    def resume(self, req: HoldRequest) -> UpdateResult:
        recorded = self._book.check_hold(RESUME_EVENT, req, workflow.now())
        self._book.add_event(recorded)
        return self._changed(recorded)

    @resume.validator
    def _validate_resume(self, req: HoldRequest) -> None:
        self._book.check_hold(RESUME_EVENT, req, workflow.now())

    @workflow.update
    def cancel(self, req: CancelRequest) -> UpdateResult:
        self._book.cancel(req, workflow.now())
        return self._changed()

    @cancel.validator
    def _validate_cancel(self, req: CancelRequest) -> None:
        self._book.check_cancel()

    @workflow.signal
    def calendar_updated(self, snapshot: CalendarSnapshot) -> None:
        """A published or amended calendar: pending deadlines are recomputed on it from now on;
        time already elapsed stays elapsed. Other regions' and already-known versions are
        ignored, so the signal can be sent to every application, as often as needed."""
        if self._book.add_calendar(snapshot, workflow.now()):
            self._dirty = True

    def _changed(self, recorded: RecordedEvent | None = None) -> UpdateResult:
        # Judge at once, so the caller sees too-short flags and new due instants in the answer;
        # the main loop re-plans the timer and projects.
        ev, _ = self._book.sync(workflow.now())
        self._eval = ev
        self._dirty = True
        return self._book.brief(ev, recorded)

    # -- keeping the outside world current ----------------------------------------------------

    async def _sync(self) -> None:
        ev, _ = self._book.sync(workflow.now())
        self._eval = ev
        current = row(self._book, ev)
        # The search attributes and the details show nothing the row does not hold (but the
        # policy version, set at the first sync): an unchanged row changes neither.
        if current != self._shown_row:
            self._update_search_attributes(current)
            workflow.set_current_details(details(current, ev))
            self._shown_row = current
        if self._one_write:
            await self._record_change(ev, current)
            return
        # First the read model (the warning is visible at once), then the messages.
        await self._project(current)
        if self._notify_enabled:
            await self._notify(ev)

    async def _record_change(self, ev: Evaluation, current: Row) -> None:
        """The change's read-model write and outbox messages in one local activity (one
        history marker), retried until it succeeds; every part of it is idempotent."""
        book = self._book
        sent, new_entries = self._unprojected()
        warnings = book.warning_notices(ev)
        progress = book.progress_due()
        unchanged = current == self._projected_row and not sent and not new_entries
        if unchanged and not warnings and not progress:
            return
        await workflow.execute_local_activity_method(
            ChangeActivities.record_change,
            ChangeInput(
                application_no=book.application.application_no,
                projection=(
                    None
                    if unchanged
                    else projection_input(book, current, workflow.now(), new_entries, sent)
                ),
                warnings=warnings,
                progress=progress,
            ),
            start_to_close_timeout=CHANGE_TIMEOUT,
            retry_policy=PROJECTION_RETRY,
            # A payload of its own: worth it only where operators look for it, at a warning.
            summary=(
                ", ".join(f"{w.level} warning: {w.code}" for w in warnings) if warnings else None
            ),
        )
        self._projected(current, sent, new_entries)
        book.notified_warnings += len(warnings)
        book.progress_sent.extend(p.kind for p in progress)

    async def _notify(self, ev: Evaluation) -> None:
        """Before ONE_WRITE_PATCH: new warnings and customer progress to the outbox, a local
        activity each, retried until they succeed; the outbox's unique key makes a repeat a
        no-op."""
        book = self._book
        for notice in book.warning_notices(ev):
            await workflow.execute_local_activity_method(
                NotificationActivities.enqueue_warning,
                notice,
                start_to_close_timeout=NOTIFY_TIMEOUT,
                retry_policy=NOTIFY_RETRY,
                summary=f"{notice.level} warning: {notice.code}",
            )
            book.notified_warnings += 1
        for progress in book.progress_due():
            await workflow.execute_local_activity_method(
                NotificationActivities.enqueue_progress,
                progress,
                start_to_close_timeout=NOTIFY_TIMEOUT,
                retry_policy=NOTIFY_RETRY,
                summary=f"customer progress: {progress.kind}",
            )
            book.progress_sent.append(progress.kind)

    def _update_search_attributes(self, current: Row) -> None:
        updates: list[SearchAttributeUpdate[Any]] = []
        wanted = search_attributes(self._book, current, with_state=self._state_attribute)
        for name, (key, value) in wanted.items():
            if self._search.get(name, ...) == value:
                continue
            self._search[name] = value
            updates.append(key.value_set(value) if value is not None else key.value_unset())
        if updates:
            workflow.upsert_search_attributes(updates)

    def _unprojected(self) -> tuple[list[RaisedWarning], list[TimelineEntry]]:
        """The warnings and timeline entries not yet written."""
        book = self._book
        # Copies: handlers may change the book while the write runs.
        sent = [
            w.model_copy()
            for w in book.warnings
            if self._projected_warnings.get((w.monitor, w.level)) != w.open
        ]
        return sent, book.timeline[book.projected_timeline :]

    def _projected(
        self, current: Row, sent: list[RaisedWarning], new_entries: list[TimelineEntry]
    ) -> None:
        self._projected_row = current
        self._book.projected_timeline += len(new_entries)
        for w in sent:
            self._projected_warnings[(w.monitor, w.level)] = w.open

    async def _project(self, current: Row) -> None:
        """Before ONE_WRITE_PATCH: the projection as a local activity of its own."""
        book = self._book
        sent, new_entries = self._unprojected()
        if current == self._projected_row and not sent and not new_entries:
            return
        await workflow.execute_local_activity_method(
            ProjectionActivities.project_application,
            projection_input(book, current, workflow.now(), new_entries, sent),
            start_to_close_timeout=PROJECTION_TIMEOUT,
            retry_policy=PROJECTION_RETRY,
        )
        self._projected(current, sent, new_entries)
