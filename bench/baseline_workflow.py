"""The workflow_bench baseline: the same updates and local activities as a 10 kV lifecycle,
with no domain logic. What our workflow costs beyond Temporal itself is the ratio to this.

RequiredWorkApplication adds what is required of every change beyond updates and
activities (search attributes kept current, the deadline timer re-planned), without the domain.

Only temporalio (and the search attribute keys) are imported here: the sandbox re-imports a
workflow's module for every run, so anything heavy (SQLAlchemy) would be re-imported per
workflow and skew the baseline."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from contracts.search_attributes import NEXT_DUE_AT, STAGE


@activity.defn
def baseline_write(n: int) -> int:
    return n


@workflow.defn
class BaselineApplication:
    def __init__(self) -> None:
        self._events: list[str] = []
        self._done = False
        self._pending = 0

    @workflow.run
    async def run(self, expected: int) -> int:  # noqa: ARG002  (the same input as the real one)
        await self._write()
        while not self._done:
            await workflow.wait_condition(lambda: self._pending > 0 or self._done)
            while self._pending:
                self._pending -= 1
                await self._write()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return len(self._events)

    async def _write(self) -> None:
        await workflow.execute_local_activity(
            "baseline_write", len(self._events), start_to_close_timeout=timedelta(seconds=30)
        )

    @workflow.update
    def record(self, event: str) -> int:
        self._events.append(event)
        self._pending += 1
        if event == "archive.completed":
            self._done = True
        return len(self._events)


@activity.defn
def baseline_write_blob(blob: str) -> int:
    return len(blob)


@dataclass
class RequiredWorkStart:
    """What RequiredWorkApplication repeats of a ConnectionApplication lifecycle."""

    #: For the start and each event: does ConnectionApplication upsert its search attributes
    #: (its row changed), and does it re-plan its deadline timer (the earliest due instant
    #: moved)? The bench computes it with the domain for the same events.
    plan: list[tuple[bool, bool]]
    #: The real start input's JSON (policy and calendar snapshots): the same bytes travel.
    start_payload: str
    #: Each change's write and each update's answer, in bytes: payloads of the same sizes.
    write_sizes: list[int]
    answer_sizes: list[int]


@workflow.defn
class RequiredWorkApplication:
    """The baseline plus the Temporal work required of every change, and nothing of
    the domain: the search attributes upserted and the deadline timer re-planned where
    ConnectionApplication does it, payloads of its sizes, one local activity per change. What
    is left between this and ConnectionApplication is the domain's own cost."""

    @workflow.init
    def __init__(self, start: RequiredWorkStart) -> None:
        self._start = start
        self._changes = 0
        self._done = False
        self._pending = 0
        self._timer: asyncio.Task[None] | None = None

    @workflow.run
    async def run(self, start: RequiredWorkStart) -> int:  # noqa: ARG002  (payload of the real size)
        await self._change()
        while not self._done:
            await workflow.wait_condition(lambda: self._pending > 0 or self._done)
            while self._pending:
                self._pending -= 1
                await self._change()
        if self._timer is not None:
            self._timer.cancel()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._changes

    async def _change(self) -> None:
        plan, n = self._start.plan, self._changes
        upsert, replan = plan[min(n, len(plan) - 1)]
        write = self._start.write_sizes[min(n, len(plan) - 1)]
        self._changes += 1
        # Far enough ahead never to fire while the lifecycle runs, as in the live bench.
        due = workflow.now() + timedelta(days=10, minutes=self._changes)
        if upsert:
            workflow.upsert_search_attributes(
                [STAGE.value_set(f"stage-{self._changes}"), NEXT_DUE_AT.value_set(due)]
            )
        if replan:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = asyncio.create_task(workflow.sleep(due - workflow.now()))
        await workflow.execute_local_activity(
            "baseline_write_blob",
            "w" * write,
            start_to_close_timeout=timedelta(seconds=30),
        )

    @workflow.update
    def record(self, event: str) -> str:
        sizes = self._start.answer_sizes
        answer = "a" * sizes[max(0, min(self._pending + self._changes - 1, len(sizes) - 1))]
        self._pending += 1
        if event == "archive.completed":
            self._done = True
        return answer
