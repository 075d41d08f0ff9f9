"""ConnectionApplication: one long-running workflow per grid-connection application.

Thin by design: it decides, activities act. Everything that touches the outside world (the
database projection, notifications) is an activity; the workflow holds the process state.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from activities.projection import ProjectionActivities
    from workflows import search_attributes as sa
    from workflows.models import (
        ApplicationInput,
        ApplicationState,
        ApplicationStatus,
        CancelRequest,
        ProjectionInput,
        TimelineEntry,
    )

PROJECTION_TIMEOUT = timedelta(seconds=30)
# The database may be down for a while; the projection keeps trying rather than losing a write.
PROJECTION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


def initial_search_attributes(inp: ApplicationInput) -> TypedSearchAttributes:
    """Set at start (by the client) so an application is findable the moment it exists."""
    p = inp.profile
    pairs: list[SearchAttributePair] = [
        SearchAttributePair(sa.BUSINESS_TYPE, p.business_type),
        SearchAttributePair(sa.UNIT, p.unit),
        SearchAttributePair(sa.STAGE, "accept"),
        SearchAttributePair(sa.ACCEPTED_AT, p.accepted_at),
    ]
    if p.voltage:
        pairs.append(SearchAttributePair(sa.VOLTAGE, p.voltage))
    if inp.customer_manager:
        pairs.append(SearchAttributePair(sa.CUSTOMER_MANAGER, inp.customer_manager))
    return TypedSearchAttributes(pairs)


def summary(inp: ApplicationInput) -> str:
    """One line for Temporal UI. No personal data: the UI is not access-controlled per field."""
    p = inp.profile
    what = " ".join(x for x in (p.voltage, p.business_type) if x)
    size = f", {p.capacity_kva:g} kVA" if p.capacity_kva is not None else ""
    return f"{what}{size} · {p.unit}"


@workflow.defn
class ConnectionApplication:
    @workflow.init
    def __init__(self, inp: ApplicationInput) -> None:
        start = ApplicationStatus.at_start(inp)
        self._input = inp
        self._state: ApplicationState = start.state
        self._stage = start.stage
        self._cancel_reason: str | None = None
        self._timeline: list[TimelineEntry] = start.timeline

    @workflow.run
    async def run(self, inp: ApplicationInput) -> ApplicationStatus:
        await self._project()
        await workflow.wait_condition(lambda: self._state != "running")
        await self._project()
        # An update handler may still be running; completing now would fail its caller.
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    @workflow.query
    def status(self) -> ApplicationStatus:
        return ApplicationStatus(
            application_no=self._input.application_no,
            state=self._state,
            stage=self._stage,
            profile=self._input.profile,
            customer_manager=self._input.customer_manager,
            timeline=list(self._timeline),
            cancel_reason=self._cancel_reason,
        )

    @workflow.update
    def cancel(self, req: CancelRequest) -> ApplicationStatus:
        self._state = "cancelled"
        self._cancel_reason = req.reason
        self._timeline.append(
            TimelineEntry(at=workflow.now(), event="cancelled", by=req.by, note=req.reason)
        )
        return self.status()

    @cancel.validator
    def _validate_cancel(self, req: CancelRequest) -> None:
        if self._state != "running":
            raise ValueError(f"application is already {self._state}")

    async def _project(self) -> None:
        await workflow.execute_activity_method(
            ProjectionActivities.project_application,
            ProjectionInput(
                application_no=self._input.application_no,
                profile=self._input.profile,
                customer=self._input.customer,
                customer_manager=self._input.customer_manager,
                state=self._state,
                stage=self._stage,
                updated_at=workflow.now(),
            ),
            start_to_close_timeout=PROJECTION_TIMEOUT,
            retry_policy=PROJECTION_RETRY,
        )
