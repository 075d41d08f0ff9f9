"""PermitDecision: one administrative-approval result (行政审批: 掘路, 占道, 绿化) delivered by
the approval system, recorded on its application (ID `permit-delivery-<delivery>`, so a
replayed delivery finds the workflow it already started).

The recording is one activity (activities.integrations.apply_permit): it keeps the result when
it is the latest of its kind (an older one arriving late changes nothing), then an approval
completes the application's `admin_approval` stage through the application's own
`record_event` update, and a rejection reopens it and returns the application to its customer
manager. An exempt outside line has no such stage: the application refuses the event, the
outcome says so, and nothing waits.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.integrations import IntegrationActivities
    from contracts.integrations import PermitInput, PermitOutcome
    from workflows.integration_steps import ACTIVITY, run_activity


@workflow.defn
class PermitDecision:
    @workflow.run
    async def run(self, inp: PermitInput) -> PermitOutcome:
        outcome: PermitOutcome = await run_activity(
            IntegrationActivities.apply_permit, inp, ACTIVITY
        )
        return outcome
