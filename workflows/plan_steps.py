"""The supply plan's steps in the ConnectionApplication workflow: make the first plan when the
pack says (domain.plans.plan_due), revise it, take the reviewers' decision, approve it, and
give back its capacity when the application is cancelled.

Plans are made by an activity (activities.plans.PlanActivities.make_plan), so the plan, its
version and its reservations are in the history as the activity's result; the ledger holds the
current one (status, carried state) and the deadlines follow it. One plan step at a time: the
main loop's and the updates' steps share a lock.

Workflow code, passed through the sandbox and loaded once; deterministic.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from activities.plans import PlanActivities
from contracts.application import RecordedEvent, RecordEventRequest
from contracts.errors import REFUSAL_ERROR_TYPE, Refusal, refusal_error
from contracts.grid import ReleaseReason, ReleaseRequest, Reservation
from contracts.plans import (
    ApprovePlanRequest,
    JointReviewDecision,
    JointReviewRequest,
    PlanInputs,
    PlanJob,
    PlanRecord,
    RevisePlanRequest,
)
from domain.ledger import ApplicationLedger
from domain.plans import (
    JOINT_REVIEW,
    REVISE,
    missing_input,
    plan_due,
    plan_kind,
    reviewed_inputs,
)
from domain.refusals import Refused
from domain.rules import application_running, check_event
from workflows.background import BackgroundSteps

#: Running applications started before plans were made in the workflow replay without them.
PLAN_PATCH = "supply-plan-in-workflow"
PLAN_TIMEOUT = timedelta(minutes=1)
# The grid database may be down for a while: keep trying, the plan is owed.
PLAN_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=[REFUSAL_ERROR_TYPE],
)
PLAN_REPLY = "plan_reply.completed"


def _refuse(refusal: Refusal | None) -> None:
    if refusal is not None:
        raise refusal_error(refusal)


def check_approve(book: ApplicationLedger, req: ApprovePlanRequest, now: datetime) -> RecordedEvent:
    """The reply as it will be recorded, or refused: a plan must be proposed (decided, not in
    joint review), and the event must pass the workflow's own checks (order, too-short)."""
    _refuse(application_running(book))
    plan = book.plan
    if plan is None:
        raise refusal_error(Refusal.one("conflict", "plan", "the application has no plan yet"))
    if plan.state != "proposed":
        raise refusal_error(
            Refusal.one("conflict", "plan", f"plan v{plan.version} is {plan.state}")
        )
    event = RecordEventRequest(event=PLAN_REPLY, at=req.at, by=req.by, note=req.note)
    try:
        return check_event(book, event, now)
    except Refused as exc:
        raise refusal_error(exc.refusal) from None


def check_revise(book: ApplicationLedger) -> None:
    _refuse(application_running(book))
    if book.plan is None:
        raise refusal_error(Refusal.one("conflict", "plan", "the application has no plan yet"))


def check_review(book: ApplicationLedger) -> None:
    _refuse(application_running(book))
    plan = book.plan
    if plan is None or plan.state != "joint_review":
        state = "no plan" if plan is None else f"plan v{plan.version} is {plan.state}"
        raise refusal_error(
            Refusal.one("conflict", "plan", f"nothing to review: {state} (not joint_review)")
        )


class PlanSteps(BackgroundSteps):
    def __init__(self) -> None:
        super().__init__()
        #: Whether this run makes plans (workflow.patched at the run's start).
        self.enabled = False

    def start(self, book: ApplicationLedger, wake: Callable[[], None]) -> None:
        """Make the first plan in the background when it is due: the main loop keeps judging
        deadlines while the plan activity waits on the grid database; `wake` is called when
        the plan is recorded."""
        if self._task is not None or not self.enabled or book.state != "running":
            return
        names = [e.event for e in book.events]
        if plan_due(book.application.profile.business_type, book.skipped, names, book.plan):
            self._in_background(self.step(book), wake)

    async def step(self, book: ApplicationLedger) -> bool:
        """Make the first plan if it is due now; True when a plan was recorded."""
        if not self.enabled or book.state != "running":
            return False
        profile = book.application.profile
        names = [e.event for e in book.events]
        if plan_due(profile.business_type, book.skipped, names, book.plan) is None:
            return False
        async with self._lock:
            trigger = plan_due(profile.business_type, book.skipped, names, book.plan)
            if trigger is None:
                return False
            await self._make(book, trigger, PlanInputs())
        return True

    async def revise(self, book: ApplicationLedger, req: RevisePlanRequest) -> PlanRecord:
        async with self._lock:
            check_revise(book)
            assert book.plan is not None
            before = book.plan
            record = await self._make(book, REVISE, req.inputs(before.inputs))
            if before.version >= 1:
                await self._release(book, before.version, "revised")
            return record

    async def review(self, book: ApplicationLedger, req: JointReviewRequest) -> PlanRecord:
        async with self._lock:
            check_review(book)
            assert book.plan is not None
            before = book.plan
            review = JointReviewDecision.model_validate(req.model_dump(exclude={"by"}))
            return await self._make(
                book, JOINT_REVIEW, reviewed_inputs(before.inputs, review), review
            )

    def approve(self, book: ApplicationLedger, req: ApprovePlanRequest) -> RecordedEvent:
        now = workflow.now()
        recorded = check_approve(book, req, now)
        book.add_event(recorded)
        assert book.plan is not None
        book.adopt_plan(book.plan.model_copy(update={"state": "approved", "approved_at": now}), now)
        return recorded

    async def close(self, book: ApplicationLedger) -> None:
        """A cancelled application gives back the capacity its plan holds (after a plan being
        made has been recorded: its reservation is given back too)."""
        await self.settled()
        if self.enabled and book.state == "cancelled" and book.plan is not None:
            await self._release(book, None, "cancelled")

    async def _make(
        self,
        book: ApplicationLedger,
        trigger: str,
        inputs: PlanInputs,
        review: JointReviewDecision | None = None,
    ) -> PlanRecord:
        previous = book.plan
        missing = missing_input(book.application.profile, inputs)
        if missing is not None:
            # Known without the grid: no activity, and the status says what to give.
            unplanned = PlanRecord(
                version=previous.version if previous else 0,
                kind=plan_kind(book.application.profile.business_type),
                trigger=trigger,
                state="not_planned",
                made_at=workflow.now(),
                refused=missing,
                inputs=inputs,
            )
            book.adopt_plan(unplanned, workflow.now())
            return unplanned
        start_policy = book.start_policy
        job = PlanJob(
            application_no=book.application.application_no,
            version=(previous.version if previous else 0) + 1,
            kind=plan_kind(book.application.profile.business_type),
            trigger=trigger,
            at=workflow.now(),
            profile=book.application.profile,
            inputs=inputs,
            review=review,
            policy_version=book.policy.version,
            monitor_ids=[m.id for m in start_policy.monitors],
            too_short_ids=[t.id for t in start_policy.too_short],
        )
        try:
            record = await workflow.execute_activity_method(
                PlanActivities.make_plan,
                job,
                start_to_close_timeout=PLAN_TIMEOUT,
                retry_policy=PLAN_RETRY,
                summary=f"plan v{job.version} ({trigger})",
            )
        except ActivityError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == REFUSAL_ERROR_TYPE:
                refusal = Refusal.from_details(cause.details)
                if refusal is not None:
                    raise refusal_error(refusal) from None
            raise
        book.adopt_plan(record, workflow.now())
        return record

    async def _release(
        self, book: ApplicationLedger, version: int | None, reason: ReleaseReason
    ) -> None:
        released: list[Reservation] = await workflow.execute_activity_method(
            PlanActivities.release_plan,
            ReleaseRequest(
                application_no=book.application.application_no,
                plan_version=version,
                reason=reason,
            ),
            start_to_close_timeout=PLAN_TIMEOUT,
            retry_policy=PLAN_RETRY,
            summary=f"release the plan's capacity ({reason})",
        )
        workflow.logger.debug("released %d reservations (%s)", len(released), reason)
