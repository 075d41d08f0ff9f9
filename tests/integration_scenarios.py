"""The integrations' workflows driven through their paths on a time-skipping server: what
scripts/record_histories.py records for the replay tests, and what tests/test_integration_
workflows.py checks.

Each scenario starts its workflow as the webhook's hand-over does (the start input built from
the pack and the calendar), with IDs made from `prefix`, and returns the handle once the
workflow completed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from contracts.application import CancelRequest, Customer
from contracts.integrations import (
    BusinessRegistered,
    ConfirmRequest,
    ConvertRequest,
    FollowUpRequest,
    PermitDecided,
    PermitInput,
    ProjectApproved,
    RegistrationStart,
    ReserveProjectStart,
    permit_workflow_id,
    registration_workflow_id,
    reserve_workflow_id,
)
from domain.start import calendar_for
from policies.loader import load_policy
from policies.params import proactive_registration, reserve_follow_up_every
from scripts.approval_client import project_body, registration_body
from workflows.permit import PermitDecision
from workflows.registration import ProposedRegistration
from workflows.reserve_project import ReserveProject

UNIT = "henan/sanmenxia"
Scenario = Callable[[WorkflowEnvironment, str, str], Awaitable[WorkflowHandle[Any, Any]]]


async def reserve_start(env: WorkflowEnvironment, project_id: str) -> ReserveProjectStart:
    policy = load_policy(UNIT)
    every = reserve_follow_up_every(policy)
    assert every is not None
    return ReserveProjectStart(
        project=ProjectApproved.model_validate(project_body(project_id)),
        received_at=await env.get_current_time(),
        calendar=calendar_for(policy).snapshot(),
        follow_up_every=every.value,
        follow_up_source=every.source,
    )


async def registration_start(env: WorkflowEnvironment, no: str) -> RegistrationStart:
    policy = load_policy(UNIT)
    found = proactive_registration(policy, "380V")
    assert found is not None
    return RegistrationStart(
        registration=BusinessRegistered.model_validate(registration_body(no)),
        received_at=await env.get_current_time(),
        calendar=calendar_for(policy).snapshot(),
        confirm_within=found.value["confirm_within"],
        stages=found.value["stages"],
        source=found.source,
    )


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met")


async def reserve_project_converted(
    env: WorkflowEnvironment, tq: str, prefix: str
) -> WorkflowHandle[Any, Any]:
    """Planned, followed up once, reminded after the pack's interval without a follow-up,
    then converted into its application."""
    pid = f"{prefix}-P"
    handle = await env.client.start_workflow(
        ReserveProject.run,
        await reserve_start(env, pid),
        id=reserve_workflow_id(pid),
        task_queue=tq,
    )

    async def planned() -> bool:
        status = await handle.query(ReserveProject.status)
        return status.plan is not None or status.plan_note is not None

    await until(planned)
    await handle.execute_update(ReserveProject.follow_up, FollowUpRequest(by="cm-001"))
    # 20 working days are at most about six weeks, holidays included.
    await env.sleep(timedelta(days=45))
    status = await handle.query(ReserveProject.status)
    assert status.reminders, "no follow-up reminder"
    now = await env.get_current_time()
    await handle.execute_update(
        ReserveProject.convert,
        ConvertRequest(
            accepted_at=now, customer=Customer(name="示例公司"), customer_manager="cm-001"
        ),
    )
    await handle.result()
    return handle


async def registration_confirmed(
    env: WorkflowEnvironment, tq: str, prefix: str
) -> WorkflowHandle[Any, Any]:
    """Proposed, reminded twice while nobody confirms it, then confirmed."""
    no = f"{prefix}R"
    handle = await env.client.start_workflow(
        ProposedRegistration.run,
        await registration_start(env, no),
        id=registration_workflow_id(no),
        task_queue=tq,
    )
    await env.sleep(timedelta(days=9))
    status = await handle.query(ProposedRegistration.status)
    assert len(status.reminders) >= 2, status.reminders
    await handle.execute_update(
        ProposedRegistration.confirm, ConfirmRequest(customer_manager="cm-002")
    )
    await handle.result()
    return handle


async def registration_dismissed(
    env: WorkflowEnvironment, tq: str, prefix: str
) -> WorkflowHandle[Any, Any]:
    no = f"{prefix}D"
    handle = await env.client.start_workflow(
        ProposedRegistration.run,
        await registration_start(env, no),
        id=registration_workflow_id(no),
        task_queue=tq,
    )
    await handle.execute_update(
        ProposedRegistration.dismiss, CancelRequest(reason="已有供电", by="cm-001")
    )
    await handle.result()
    return handle


async def permit_without_application(
    env: WorkflowEnvironment, tq: str, prefix: str
) -> WorkflowHandle[Any, Any]:
    """A permit for an application that does not exist: recorded as missing, nothing else."""
    delivery = int.from_bytes(prefix.encode()[-4:], "big")
    permit = PermitDecided(
        application_no=f"{prefix}-NOAPP",
        kind="road_occupation",
        result="approved",
        decided_at=await env.get_current_time(),
    )
    handle = await env.client.start_workflow(
        PermitDecision.run,
        PermitInput(delivery=delivery, permit=permit),
        id=permit_workflow_id(delivery),
        task_queue=tq,
    )
    await handle.result()
    return handle


SCENARIOS: dict[str, Scenario] = {
    "reserve_project_converted": reserve_project_converted,
    "registration_confirmed": registration_confirmed,
    "registration_dismissed": registration_dismissed,
    "permit_without_application": permit_without_application,
}
