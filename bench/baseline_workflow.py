"""The workflow_bench baseline: the same updates and local activities as a 10 kV lifecycle,
with no domain logic. What our workflow costs beyond Temporal itself is the ratio to this.

Only temporalio is imported here: the sandbox re-imports a workflow's module for every run, so
anything heavy (SQLAlchemy) would be re-imported per workflow and skew the baseline."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


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
    async def run(self, expected: int) -> int:
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
