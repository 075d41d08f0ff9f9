"""A workflow that rebuilds a calendar from a snapshot inside Temporal's sandbox (test helper)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow

# Deliberately not passed through: the sandbox re-imports calendars itself, which proves the
# package imports cleanly under its restrictions.
from calendars import Calendar, CalendarSnapshot


class DeadlineRequest(BaseModel):
    snapshot: CalendarSnapshot
    start: datetime
    hours: float


class DeadlineResult(BaseModel):
    due: datetime
    version: str
    provisional: bool


@workflow.defn(sandboxed=True)
class CalendarSnapshotWorkflow:
    @workflow.run
    async def run(self, req: DeadlineRequest) -> DeadlineResult:
        cal = Calendar.from_snapshot(req.snapshot)
        due = cal.add_work_time(req.start, timedelta(hours=req.hours))
        return DeadlineResult(
            due=due, version=cal.version, provisional=cal.provisional_between(req.start, due)
        )
