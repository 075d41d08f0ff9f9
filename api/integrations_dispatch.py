"""Handing a stored webhook delivery to Temporal: the workflow each kind starts, under an ID
that makes the hand-over idempotent (a redelivery, a replay or a retry after a timeout finds
the workflow the first one started and starts nothing).

- project: ReserveProject `reserve-<project id>`;
- registration: ProposedRegistration `registration-<registration no>`;
- permit: PermitDecision `permit-delivery-<delivery>` (one per delivery: the activity behind it
  orders the results of a kind by their decision instant).

The start input is built here (it reads the pack and the calendar files, which workflow code
never does). Errors kept on the delivery name the exception type only: the body is personal.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from contracts.integrations import (
    BusinessRegistered,
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
from policies.loader import list_units, load_policy
from policies.params import proactive_registration, reserve_follow_up_every
from readmodel import integrations as store
from workflows.permit import PermitDecision
from workflows.registration import ProposedRegistration
from workflows.reserve_project import ReserveProject

log = logging.getLogger(__name__)

#: How long the hand-over may take before the delivery is kept as failed (and answered 202
#: all the same: it is stored, and an operator or the next replay hands it over).
HANDOVER_TIMEOUT = timedelta(seconds=5)

BODIES: dict[str, type[BaseModel]] = {
    "project": ProjectApproved,
    "permit": PermitDecided,
    "registration": BusinessRegistered,
}


def unknown_unit(body: BaseModel) -> str | None:
    """The reason a body's unit is refused, if it is (no pack names it)."""
    unit = getattr(body, "unit", None)
    if unit is None or unit in set(list_units()):
        return None
    return f"unknown unit {unit!r}: no policy pack names it"


def _project_start(body: ProjectApproved, delivery: int, now: datetime) -> ReserveProjectStart:
    policy = load_policy(body.unit)
    every = reserve_follow_up_every(policy)
    if every is None:
        raise LookupError("the unit's pack gives no reserve_projects follow-up interval")
    return ReserveProjectStart(
        project=body,
        delivery=delivery,
        received_at=now,
        calendar=calendar_for(policy).snapshot(),
        follow_up_every=every.value,
        follow_up_source=every.source,
    )


def _registration_start(
    body: BusinessRegistered, delivery: int, now: datetime
) -> RegistrationStart:
    policy = load_policy(body.unit)
    found = proactive_registration(policy, "380V")
    if found is None:
        raise LookupError("the unit's pack gives no proactive_registrations parameters")
    return RegistrationStart(
        registration=body,
        delivery=delivery,
        received_at=now,
        calendar=calendar_for(policy).snapshot(),
        confirm_within=found.value["confirm_within"],
        stages=found.value["stages"],
        source=found.source,
    )


def _workflow(kind: str, body: BaseModel, delivery: int, now: datetime) -> tuple[Any, Any, str]:
    """(workflow run method, its input, its ID) for a delivery."""
    if isinstance(body, ProjectApproved):
        return ReserveProject.run, _project_start(body, delivery, now), reserve_workflow_id(body.id)
    if isinstance(body, BusinessRegistered):
        return (
            ProposedRegistration.run,
            _registration_start(body, delivery, now),
            registration_workflow_id(body.registration_no),
        )
    if isinstance(body, PermitDecided):
        inp = PermitInput(delivery=delivery, permit=body)
        return PermitDecision.run, inp, permit_workflow_id(delivery)
    raise TypeError(f"no workflow for a {kind} delivery")


async def hand_over(
    engine: Engine, client: Client, task_queue: str, delivery: int, kind: str, raw: Any
) -> str:
    """Start the delivery's workflow and keep the outcome on the delivery: accepted (started
    now, or running from an earlier hand-over of this delivery), duplicate (its workflow had
    finished already: another delivery of the same thing) or failed."""
    body = BODIES[kind].model_validate(raw)
    wid = None
    try:
        run, inp, wid = _workflow(kind, body, delivery, datetime.now(UTC))
        if await asyncio.to_thread(store.handed_over_by_another, engine, wid, delivery):
            await asyncio.to_thread(
                store.set_status, engine, delivery, "duplicate", workflow_id=wid
            )
            return "duplicate"
        await client.start_workflow(
            run,
            inp,
            id=wid,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            rpc_timeout=HANDOVER_TIMEOUT,
        )
        status = "accepted"
    except WorkflowAlreadyStartedError:
        status = "duplicate"
    except Exception as exc:
        # Kept for the operator's replay; the type says enough (Temporal down, a broken pack).
        log.warning("delivery %d (%s) not handed over: %s", delivery, kind, type(exc).__name__)
        await asyncio.to_thread(
            store.set_status, engine, delivery, "failed", workflow_id=wid, error=_why(exc)
        )
        return "failed"
    await asyncio.to_thread(store.set_status, engine, delivery, status, workflow_id=wid)
    return status


def _why(exc: Exception) -> str:
    if isinstance(exc, LookupError):
        return str(exc)
    return f"{type(exc).__name__}: the workflow could not be started"
