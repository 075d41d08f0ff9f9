"""Coordination notices' steps in the ConnectionApplication workflow: issue the notices the
pack's table names when their event is recorded (domain.coordination), issue by hand, take each
department's answer, complete the kind's stage once every department of the round agreed, and
withdraw what is left open when the stage is skipped or the application closes.

A notice's clock is its monitor's: issuing a round records `<kind>.started` (unless staff
started the stage by hand), the round's last agreement records `<kind>.completed`. The notices
are written by an activity (activities.coordination.CoordinationActivities.write_notices), which
also tells the people. One notice step at a time: the main loop's and the updates' steps share a
lock.

Workflow code, passed through the sandbox and loaded once; deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Literal

from temporalio import workflow
from temporalio.common import RetryPolicy

from activities.coordination import CoordinationActivities
from contracts.application import RecordEventRequest
from contracts.coordination import (
    AnswerNoticeRequest,
    IssueNoticesRequest,
    NoticeRecord,
    NoticeWrite,
)
from contracts.errors import refusal_error
from domain.coordination import (
    check_answer,
    check_issue,
    current_round,
    due_at,
    needs_start,
    new_notices,
    open_departments,
    plan_issue,
    round_agreed,
    round_closed,
    rows_due,
    stage_done,
    start_event,
)
from domain.ledger import ApplicationLedger
from domain.refusals import Refused
from domain.rules import check_event
from policies.engine import Evaluation
from workflows.background import BackgroundSteps

#: Running applications started before notices were issued in the workflow replay without.
NOTICE_PATCH = "coordination-notices"
NOTICE_TIMEOUT = timedelta(minutes=1)
# The database may be down for a while: keep trying, the notices are owed.
NOTICE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
ISSUED_BY_WORKFLOW = "workflow"


def check_issue_request(book: ApplicationLedger, req: IssueNoticesRequest) -> None:
    """The issue update's validator: reads only (the evaluation is peeked, not remembered)."""
    refusal = check_issue(book, book.peek(workflow.now()), req.kind, req.departments)
    if refusal is not None:
        raise refusal_error(refusal)


def check_answer_request(
    book: ApplicationLedger, notices: Sequence[NoticeRecord], req: AnswerNoticeRequest
) -> None:
    refusal = check_answer(book, notices, req.notice_id, req.result, req.opinion)
    if refusal is not None:
        raise refusal_error(refusal)


class NoticeSteps(BackgroundSteps):
    def __init__(self, carried: Sequence[NoticeRecord] = ()) -> None:
        super().__init__()
        #: Whether this run issues notices (workflow.patched at the run's start).
        self.enabled = False
        self.notices: list[NoticeRecord] = list(carried)

    def departments_for(self, kind: str) -> list[str]:
        """The departments a warning of `kind` chases: those still to answer."""
        return open_departments(self.notices, kind)

    def start(
        self, book: ApplicationLedger, ev: Evaluation | None, wake: Callable[[], None]
    ) -> None:
        """Issue what the table owes, withdraw what a skipped stage left open: in the
        background; `wake` when the notices changed."""
        if not self.enabled or self._task is not None or book.state != "running" or ev is None:
            return
        rows = rows_due(book, ev, self.notices)
        stale = [n for n in self.notices if n.state == "open" and n.kind in book.skipped]
        if rows or stale:
            step = self._auto(book, [(r.kind, r.departments) for r in rows], stale)
            self._in_background(step, wake)

    async def close(self, book: ApplicationLedger) -> None:
        """A closed application needs no more answers: its open notices are withdrawn."""
        await self.settled()
        if self.enabled:
            async with self._lock:
                await self._withdraw(book, [n for n in self.notices if n.state == "open"])

    async def _auto(
        self,
        book: ApplicationLedger,
        rows: list[tuple[str, list[str]]],
        stale: list[NoticeRecord],
    ) -> bool:
        async with self._lock:
            await self._withdraw(book, stale)
            for kind, departments in rows:
                # An update may have issued it meanwhile, or staff completed the stage.
                if not any(n.kind == kind for n in self.notices) and not stage_done(book, kind):
                    await self._issue(book, kind, departments, ISSUED_BY_WORKFLOW)
            return True

    async def issue(self, book: ApplicationLedger, req: IssueNoticesRequest) -> list[NoticeRecord]:
        async with self._lock:
            refusal = check_issue(book, book.evaluate(workflow.now()), req.kind, req.departments)
            if refusal is not None:
                raise refusal_error(refusal)
            return await self._issue(book, req.kind, req.departments, req.by or "staff")

    async def _issue(
        self, book: ApplicationLedger, kind: str, departments: Sequence[str], by: str
    ) -> list[NoticeRecord]:
        current = current_round(self.notices, kind)
        round_no, adding, stale = plan_issue(self.notices, kind, departments)
        if not adding:
            return current
        now = workflow.now()
        fresh = not current or round_closed(current)
        if fresh and needs_start(book, kind, round_no):
            note = f"coordination notices, round {round_no}"
            book.add_event(start_event(kind, now, None if by == ISSUED_BY_WORKFLOW else by, note))
        due = due_at(book.evaluate(now), kind)
        withdrawn = [n.model_copy(update={"state": "withdrawn"}) for n in stale]
        issued = new_notices(book, kind, adding, round_no, now, due, by)
        await self._write(book, [*withdrawn, *issued], "issued")
        return current_round(self.notices, kind)

    async def answer(self, book: ApplicationLedger, req: AnswerNoticeRequest) -> NoticeRecord:
        async with self._lock:
            check_answer_request(book, self.notices, req)
            found = next(n for n in self.notices if n.id == req.notice_id)
            agreed = req.result == "agreed"
            answered = found.model_copy(
                update={
                    "state": "answered" if agreed else "rejected",
                    "answered_at": workflow.now(),
                    "answered_by": req.by,
                    "result": req.result,
                    "opinion": req.opinion,
                }
            )
            await self._write(book, [answered], "none" if agreed else "rejected")
            if agreed and round_agreed(current_round(self.notices, found.kind)):
                self._complete(book, found.kind, req.by)
            return answered

    def _complete(self, book: ApplicationLedger, kind: str, by: str) -> None:
        """Every department agreed: the kind's stage completes (its monitor stops), unless
        staff completed it by hand already."""
        last = book.last_event_of(kind)
        if last is None or last.event.endswith(".completed"):
            return
        req = RecordEventRequest(
            event=f"{kind}.completed", at=workflow.now(), by=by, note="every department agreed"
        )
        try:
            recorded = check_event(book, req, workflow.now())
        except Refused as exc:
            workflow.logger.info("notice event %s not recorded: %s", req.event, exc.refusal.errors)
            return
        book.add_event(recorded)

    async def _withdraw(self, book: ApplicationLedger, notices: Sequence[NoticeRecord]) -> None:
        if notices:
            gone = [n.model_copy(update={"state": "withdrawn"}) for n in notices]
            await self._write(book, gone, "none")

    async def _write(
        self,
        book: ApplicationLedger,
        notices: list[NoticeRecord],
        tell: Literal["issued", "rejected", "none"],
    ) -> None:
        app = book.application
        write = NoticeWrite(
            application_no=app.application_no,
            unit=app.profile.unit,
            customer_manager=app.customer_manager,
            notices=notices,
            tell=tell,
            at=workflow.now(),
        )
        # Known to the workflow before the rows are written: the inbox shows a row as soon as
        # it is written, and an answer to it must find the notice (its handler waits for the
        # lock, so the answer is written after the issue). Only in-memory order: no command.
        by_id = {n.id: n for n in notices}
        kept = [by_id.pop(n.id, n) for n in self.notices]
        self.notices = kept + list(by_id.values())
        kinds = sorted({n.kind for n in notices})
        await workflow.execute_activity_method(
            CoordinationActivities.write_notices,
            write,
            start_to_close_timeout=NOTICE_TIMEOUT,
            retry_policy=NOTICE_RETRY,
            summary=f"notices {', '.join(kinds)} ({tell})",
        )
