"""ConnectionApplication: one long-running workflow per grid-connection application.

Thin by design: the domain decides (domain.ledger holds the application's state, domain.rules
refuses changes, domain.judgement raises warnings); this class holds the Temporal side. One
durable timer waits for the earliest pending threshold of all monitors; events, holds and
calendar changes re-plan it. The writes to the read model and the outbox are local activities
(workflows.writer), idempotent.

The query and the update validators only read: they neither fill a cache nor change state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

# Names from modules, never `from package import module`: a submodule imported that way is not
# passed through but executed again for every workflow (tests/test_sandbox_imports.py).
with workflow.unsafe.imports_passed_through():
    from calendars.snapshot import CalendarSnapshot
    from contracts.application import (
        ApplicationOutcome,
        ApplicationStart,
        ApplicationStatus,
        CancelRequest,
        HoldRequest,
        RecordedEvent,
        RecordEventRequest,
        UpdateResult,
    )
    from contracts.coordination import AnswerNoticeRequest, IssueNoticesRequest, NoticeRecord
    from contracts.errors import Refusal, refusal_error
    from contracts.outages import OutageAnswer, OutageRecord
    from contracts.permits import PermitAnswer, RecordPermitRequest
    from contracts.plans import (
        ApprovePlanRequest,
        JointReviewRequest,
        PlanRecord,
        RevisePlanRequest,
    )
    from domain.answers import brief, outcome
    from domain.answers import status as full_status
    from domain.coordination import is_issued_repeat
    from domain.history import replay_history
    from domain.ledger import ApplicationLedger
    from domain.permits import mark_of, permits_status
    from domain.refusals import Refused
    from domain.rules import check_cancel, check_event, check_hold
    from domain.views import Row, details, row, search_attributes
    from policies.codes import PAUSE_EVENT, RESUME_EVENT
    from policies.engine import Evaluation
    from workflows.notice_steps import (
        NOTICE_PATCH,
        NoticeSteps,
        check_answer_request,
        check_issue_request,
    )
    from workflows.outage_steps import OUTAGE_PATCH, OutageSteps, check_answer
    from workflows.permit_steps import PERMIT_PATCH, PermitSteps, check_record
    from workflows.plan_steps import (
        PLAN_PATCH,
        PlanSteps,
        check_approve,
        check_review,
        check_revise,
    )
    from workflows.writer import ChangeWriter

# Histories recorded before warnings were handed to notifications replay without the calls.
# Asked once, first thing in a run: a patch check placed after a local activity can fall into
# another workflow task on replay when that activity ran long (the task was heartbeated).
NOTIFY_PATCH = "notify-checked-at-run-start"
# Histories recorded before a change's writes were combined into one local activity
# (record_change) replay with the separate projection and notification activities.
ONE_WRITE_PATCH = "one-write-per-change"
# Histories recorded before the writes were bounded (workflows.writer.WRITE_LIMIT) replay with
# writes retried without end inside the workflow task.
BOUNDED_WRITES_PATCH = "bounded-writes-retried-on-a-timer"
# Histories recorded before the State search attribute replay without its upserts.
STATE_PATCH = "state-search-attribute"
# Histories recorded before a timer about to fire was left to fire replay with it cancelled.
DUE_TIMER_PATCH = "due-timer-left-to-fire"
# A timer due this soon is left to fire when the wait is re-planned, not cancelled: its firing
# may already be on its way while the task runs. The real server drops such a fire when the
# cancel arrives; the time-skipping test server refuses the task's completion instead and the
# run never gets another task. Far longer than a workflow task may take; a stray fire costs
# one empty task.
DUE_TIMER_MARGIN = timedelta(minutes=1)
# Continue-as-new well before Temporal's 50k-event limit; the server's suggestion also counts.
CONTINUE_AS_NEW_AFTER = 5_000
# Tests that exercise continue-as-new give a short length in the workflow's memo under this key
# (a start option, kept out of the start input and carried to the next run by Temporal).
CONTINUE_AS_NEW_MEMO = "continue_as_new_after"


@contextmanager
def _refusals() -> Iterator[None]:
    """The domain's refusal as the error Temporal carries to the caller (contracts.errors)."""
    try:
        yield
    except Refused as exc:
        raise refusal_error(exc.refusal) from None


@workflow.defn
class ConnectionApplication:
    @workflow.init
    def __init__(self, start: ApplicationStart) -> None:
        self._start = start
        self._book = ApplicationLedger(start, workflow.now())
        self._writer = ChangeWriter.carried_from(start)
        self._search: dict[str, Any] = {}
        if start.history is not None and start.carried is None:
            self._take_history(start)
        self._dirty = False
        # The one durable wait for the earliest pending threshold (None: nothing pending).
        self._timer: asyncio.Task[None] | None = None
        self._leave_due_timers = False
        self._eval: Evaluation | None = None
        # The row the search attributes and the UI details were last computed for.
        self._shown_row: Row | None = None
        self._state_attribute = False
        self._plans = PlanSteps()
        self._outages = OutageSteps(start.carried.outage if start.carried else None)
        self._notices = NoticeSteps(start.carried.notices if start.carried else ())
        self._permits = PermitSteps(start.carried.permits if start.carried else None)

    @workflow.run
    async def run(self, start: ApplicationStart) -> ApplicationOutcome:
        self._writer.notify = workflow.patched(NOTIFY_PATCH)
        self._writer.one_write = workflow.patched(ONE_WRITE_PATCH)
        self._writer.bounded = workflow.patched(BOUNDED_WRITES_PATCH)
        self._state_attribute = workflow.patched(STATE_PATCH)
        self._plans.enabled = workflow.patched(PLAN_PATCH)
        self._outages.enabled = workflow.patched(OUTAGE_PATCH)
        self._notices.enabled = workflow.patched(NOTICE_PATCH)
        if self._notices.enabled:
            self._writer.departments_for = self._notices.departments_for
        self._permits.enabled = workflow.patched(PERMIT_PATCH)
        self._leave_due_timers = workflow.patched(DUE_TIMER_PATCH)
        # Histories recorded while tests set it in the start input still carry it there.
        history_limit = start.continue_as_new_after or workflow.memo_value(
            CONTINUE_AS_NEW_MEMO, CONTINUE_AS_NEW_AFTER, type_hint=int
        )
        timer_due: datetime | None = None
        await self._sync()
        self._plan_step()
        while self._book.state == "running":
            due = self._eval.next_due_at if self._eval else None
            if due != timer_due:
                self._drop_timer(timer_due)
                timer_due = due
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
            self._plan_step()
            if self._book.state == "running" and self._history_is_long(history_limit):
                await workflow.wait_condition(workflow.all_handlers_finished)
                await self._plans.settled()
                await self._outages.settled()
                await self._notices.settled()
                carried = self._writer.carry(self._book.carried())
                if self._outages.record is not None:
                    carried.outage = self._outages.record
                carried.notices = self._notices.notices
                carried.permits = self._permits.results
                workflow.continue_as_new(
                    ApplicationStart(
                        application=start.application,
                        policy=start.policy,
                        calendar=start.calendar,
                        carried=carried,
                    )
                )
        self._drop_timer(timer_due)
        await self._plans.close(self._book)
        await self._outages.close(self._book)
        await self._notices.close(self._book)
        await self._sync()
        # An update handler may still be running; completing now would fail its caller.
        await workflow.wait_condition(workflow.all_handlers_finished)
        # A short result: the full final status went to the read model with the last write.
        return outcome(self._book, self._book.evaluate(workflow.now()))

    def _take_history(self, start: ApplicationStart) -> None:
        """An imported application: its past applied as a live run would have recorded it.
        The import wrote the read model and the search attributes from the same past, at the
        same instant, so the writer and the attributes start from there and the first sync
        writes only what changed since (a threshold that passed meanwhile, sent as usual)."""
        assert start.history is not None
        book = self._book
        replay_history(book, start.history)
        at = start.history.imported_at
        current = row(book, book.evaluate(at))
        self._writer.imported(book, current, at)
        wanted = search_attributes(book, current, with_state=True)
        self._search = {name: value for name, (_, value) in wanted.items()}

    def _plan_step(self) -> None:
        self._plans.start(self._book, self._wake)
        self._outages.start(self._book, self._eval, self._wake)
        self._notices.start(self._book, self._eval, self._wake)
        self._permits.start(self._book, self._wake)

    def _drop_timer(self, due: datetime | None) -> None:
        """The wait for `due` is no longer wanted: cancelled, unless it is about to fire
        (DUE_TIMER_MARGIN), which includes one whose instant has come (a change recorded at a
        threshold's own instant, or a re-plan of an already-due threshold); a timer left to fire
        wakes nothing, `_woken` asks only the current one."""
        timer, self._timer = self._timer, None
        if timer is None or timer.done():
            return
        if self._leave_due_timers and due is not None and due - workflow.now() <= DUE_TIMER_MARGIN:
            return
        timer.cancel()

    def _wake(self) -> None:
        self._dirty = True

    def _woken(self) -> bool:
        timer = self._timer
        return self._dirty or (timer is not None and timer.done()) or self._book.state != "running"

    @staticmethod
    def _history_is_long(limit: int) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > limit

    # -- queries, updates, signals ------------------------------------------------------------

    @workflow.query
    def status(self) -> ApplicationStatus:
        book = self._book
        answer = full_status(book, book.peek(workflow.now()), self._writer.waiting_on)
        if self._outages.record is not None:
            answer.outage = self._outages.record
        answer.notices = self._notices.notices
        answer.permits = permits_status(
            book.plan, book.skipped, mark_of(book), self._permits.results
        )
        return answer

    @workflow.update
    def record_event(self, req: RecordEventRequest) -> UpdateResult:
        with _refusals():
            recorded = check_event(self._book, req, workflow.now())
        if is_issued_repeat(self._book, recorded.event):
            # The notices started the stage already: the start by hand is that start again.
            return self._changed(self._book.last_event_of(recorded.event.rpartition(".")[0]))
        self._book.add_event(recorded, req.origin)
        return self._changed(recorded)

    @record_event.validator
    def _validate_event(self, req: RecordEventRequest) -> None:
        with _refusals():
            check_event(self._book, req, workflow.now())

    @workflow.update
    def pause(self, req: HoldRequest) -> UpdateResult:
        return self._hold(PAUSE_EVENT, req)

    @pause.validator
    def _validate_pause(self, req: HoldRequest) -> None:
        with _refusals():
            check_hold(self._book, PAUSE_EVENT, req, workflow.now())

    @workflow.update
    def resume(self, req: HoldRequest) -> UpdateResult:
        return self._hold(RESUME_EVENT, req)

    @resume.validator
    def _validate_resume(self, req: HoldRequest) -> None:
        with _refusals():
            check_hold(self._book, RESUME_EVENT, req, workflow.now())

    def _hold(self, kind: str, req: HoldRequest) -> UpdateResult:
        with _refusals():
            recorded = check_hold(self._book, kind, req, workflow.now())
        self._book.add_event(recorded, req.origin)
        return self._changed(recorded)

    @workflow.update
    def cancel(self, req: CancelRequest) -> UpdateResult:
        self._book.cancel(req, workflow.now())
        return self._changed()

    @cancel.validator
    def _validate_cancel(self, req: CancelRequest) -> None:  # noqa: ARG002  (the update's)
        with _refusals():
            check_cancel(self._book)

    @workflow.update
    def approve_plan(self, req: ApprovePlanRequest) -> UpdateResult:
        """The plan's reply recorded (plan_reply.completed), checked as any event is."""
        recorded = self._plans.approve(self._book, req)
        return self._changed(recorded)

    @approve_plan.validator
    def _validate_approve_plan(self, req: ApprovePlanRequest) -> None:
        check_approve(self._book, req, workflow.now())

    @workflow.update
    async def revise_plan(self, req: RevisePlanRequest) -> PlanRecord:
        record = await self._plans.revise(self._book, req)
        self._changed()
        return record

    @revise_plan.validator
    def _validate_revise_plan(self, req: RevisePlanRequest) -> None:  # noqa: ARG002
        check_revise(self._book)

    @workflow.update
    async def review_plan(self, req: JointReviewRequest) -> PlanRecord:
        record = await self._plans.review(self._book, req)
        self._changed()
        return record

    @review_plan.validator
    def _validate_review_plan(self, req: JointReviewRequest) -> None:  # noqa: ARG002
        check_review(self._book)

    @workflow.update
    async def answer_outage(self, req: OutageAnswer) -> OutageRecord:
        """Dispatch's answer to the application's outage (送(停)电计划反馈): an approval records
        outage_plan.completed; a rejection schedules the outage again."""
        record = await self._outages.answer(self._book, req)
        self._changed()
        return record

    @answer_outage.validator
    def _validate_answer_outage(self, req: OutageAnswer) -> None:
        check_answer(self._book, self._outages.record, req)

    @workflow.update
    async def issue_notices(self, req: IssueNoticesRequest) -> list[NoticeRecord]:
        """Staff issue coordination notices by hand: the kind's current round takes the new
        departments; after a rejection (or once all agreed) a new round with a fresh clock."""
        records = await self._notices.issue(self._book, req)
        self._changed()
        return records

    @issue_notices.validator
    def _validate_issue_notices(self, req: IssueNoticesRequest) -> None:
        self._notices_enabled()
        check_issue_request(self._book, req)

    @workflow.update
    async def answer_notice(self, req: AnswerNoticeRequest) -> NoticeRecord:
        """A department's answer: agreed by every department of the round, the kind's stage
        completes; a rejection goes back to the customer manager with the opinion."""
        record = await self._notices.answer(self._book, req)
        self._changed()
        return record

    @answer_notice.validator
    def _validate_answer_notice(self, req: AnswerNoticeRequest) -> None:
        self._notices_enabled()
        check_answer_request(self._book, self._notices.notices, req)

    def _notices_enabled(self) -> None:
        if not self._notices.enabled:
            reason = "the application was started before coordination notices"
            raise refusal_error(Refusal.one("conflict", "application_no", reason))

    @workflow.update
    def record_permit(self, req: RecordPermitRequest) -> PermitAnswer:
        """A permit result from the approval system (行政审批): the latest of its kind kept; the
        stage completed when every kind the plan lists is approved, reopened by a rejection."""
        answer = self._permits.record(self._book, req)
        if answer.outcome != "superseded":
            self._changed()
        return answer

    @record_permit.validator
    def _validate_record_permit(self, req: RecordPermitRequest) -> None:
        check_record(self._book, req, workflow.now())

    @workflow.signal
    def calendar_updated(self, snapshot: CalendarSnapshot) -> None:
        """A published or amended calendar: pending deadlines are recomputed on it from now on;
        time already elapsed stays elapsed. Other regions' and already-known versions are
        ignored, so the signal can be sent to every application, as often as needed."""
        if self._book.add_calendar(snapshot, workflow.now()):
            self._dirty = True

    def _changed(self, recorded: RecordedEvent | None = None) -> UpdateResult:
        # Judge at once, so the caller sees too-short flags and new due instants in the answer;
        # the main loop re-plans the timer and writes.
        ev, _ = self._book.sync(workflow.now())
        self._eval = ev
        self._dirty = True
        return brief(self._book, ev, recorded)

    # -- keeping the outside world current ----------------------------------------------------

    async def _sync(self) -> None:
        ev, _ = self._book.sync(workflow.now())
        self._eval = ev
        current = row(self._book, ev)
        # The search attributes and the details show nothing the row does not hold (but the
        # policy version, set at the first sync): an unchanged row changes neither.
        if current != self._shown_row:
            self._update_search_attributes(current)
            self._shown_row = current
            self._show_details()
        await self._writer.write(self._book, ev, current, self._show_details)

    def _show_details(self) -> None:
        if self._shown_row is None or self._eval is None:
            return
        text = details(self._shown_row, self._eval)
        if self._writer.waiting_on is not None:
            text += f"\nwaiting on the {self._writer.waiting_on}: its writes are retried on a timer"
        workflow.set_current_details(text)

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
