"""SmsDispatcher: the one workflow that sends the SMS outbox, in the policy's send windows.

A singleton (workflow ID `sms-dispatcher`, started idempotently by the worker). Each round is
one activity, `dispatch_due`, which sends what is due at `workflow.now()` and answers when to
wake next, computed from the business calendar (the next window start on a working day, or a
pending row's retry instant); the answer is recorded in history, so replay needs no calendar.
It sleeps on a durable timer until then, or until signalled `wake` (new rows that should not
wait, e.g. after an operator fixed a gateway). Continue-as-new keeps the history short.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy, WorkflowIDReusePolicy

if TYPE_CHECKING:
    from temporalio.client import Client

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from contracts.notifications import DispatchRequest, DispatchResult

DISPATCHER_ID = "sms-dispatcher"
DISPATCH_TIMEOUT = timedelta(minutes=35)  # a whole 30-minute window, plus slack
DISPATCH_HEARTBEAT = timedelta(minutes=1)
# The database or gateway may be down for a while: keep trying, never skip a round.
DISPATCH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2), maximum_interval=timedelta(minutes=1)
)
# When nothing is pending and no window is known (cannot happen with a calendar), look again.
IDLE_WAKE = timedelta(hours=6)


class DispatcherInput(BaseModel):
    #: While progress messages may go out, look for new rows this often (None: windows only).
    poll_minutes: int | None = 5
    batch_size: int = 200
    #: Rounds per run before continue-as-new.
    rounds_per_run: int = 200
    #: Totals carried over continue-as-new (shown by the `state` query).
    sent: int = 0
    failed: int = 0


class DispatcherState(BaseModel):
    sent: int
    failed: int
    rounds: int
    next_wake: datetime | None


@workflow.defn
class SmsDispatcher:
    @workflow.init
    def __init__(self, inp: DispatcherInput) -> None:
        self._woken = False
        self._sent = inp.sent
        self._failed = inp.failed
        self._rounds = 0
        self._next_wake: datetime | None = None

    @workflow.run
    async def run(self, inp: DispatcherInput) -> None:
        while True:
            result: DispatchResult = await workflow.execute_activity_method(
                NotificationActivities.dispatch_due,
                DispatchRequest(
                    at=workflow.now(), batch_size=inp.batch_size, poll_minutes=inp.poll_minutes
                ),
                start_to_close_timeout=DISPATCH_TIMEOUT,
                heartbeat_timeout=DISPATCH_HEARTBEAT,
                retry_policy=DISPATCH_RETRY,
                summary="send the SMS due now",
            )
            self._rounds += 1
            self._sent += result.sent
            self._failed += result.failed
            if result.more:
                continue  # the window is open and rows are left: the next batch at once
            wake = result.next_wake or workflow.now() + IDLE_WAKE
            self._next_wake = wake
            delay = wake - workflow.now()
            if delay > timedelta(0) and not self._woken:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        lambda: self._woken,
                        timeout=delay,
                        timeout_summary=f"next send window {wake.isoformat()}",
                    )
            self._woken = False
            if self._rounds >= inp.rounds_per_run or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    inp.model_copy(update={"sent": self._sent, "failed": self._failed})
                )

    @workflow.signal
    def wake(self) -> None:
        self._woken = True

    @workflow.query
    def state(self) -> DispatcherState:
        return DispatcherState(
            sent=self._sent, failed=self._failed, rounds=self._rounds, next_wake=self._next_wake
        )


async def ensure_dispatcher(
    client: Client, task_queue: str, inp: DispatcherInput | None = None
) -> str:
    """Start the dispatcher unless it runs already (every worker calls this on start; the
    fixed ID and USE_EXISTING make all but the first a no-op). Returns its run ID."""
    handle = await client.start_workflow(
        SmsDispatcher.run,
        inp or DispatcherInput(),
        id=DISPATCHER_ID,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary="SMS outbox dispatcher: sends queued warnings in the send windows",
    )
    return handle.result_run_id or ""
