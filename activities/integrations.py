"""The side effects of the integrations' workflows: a reserve project's preliminary plan (the
grid read and the plan engine), their projections, reminders to customer managers through
the SMS outbox, starting the formal application a project or registration becomes, and a
permit result recorded on its application.

Every one is idempotent: a projection replaces its row, a reminder's outbox key is the
workflow and the reminder's number, an application is started under an ID derived from where
it comes from, a permit result is kept per (application, kind) only when it is the latest.
Logs name workflows and codes, never names, contacts or addresses.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from calendars import get_calendar
from contracts.application import ApplicationInput, workflow_id
from contracts.errors import REFUSAL_ERROR_TYPE, Refusal
from contracts.integrations import (
    PermitInput,
    PermitOutcome,
    ProjectApproved,
    RegistrationStatus,
    ReserveProjectStatus,
    StartApplication,
)
from contracts.permits import PermitAnswer, RecordPermitRequest
from core.config import Settings
from domain.grid import policy_for_unit, search_radius_km, snapshot_of
from domain.notifications.recipients import select_recipients
from domain.notifications.windows import SendWindows
from domain.start import initial_status, start_input
from domain.views import initial_search_attributes, summary
from policies.loader import PolicyError, load_policy
from policies.plans.engine import plan
from policies.plans.plan import Plan
from policies.plans.request import PlanRequest
from policies.profile import ApplicationProfile
from readmodel import integrations as store
from readmodel.applications import ApplicationRow
from readmodel.grid_reads import rows_near
from readmodel.outbox import OutboxBase
from readmodel.outbox_queue import OutboxQueue

log = logging.getLogger(__name__)

CUSTOMER_MANAGER = "customer_manager"
#: The workflow type the activities start, by name (activities do not import workflows).
APPLICATION_WORKFLOW = "ConnectionApplication"


class PlanAnswer(BaseModel):
    plan: Plan | None = None
    note: str | None = None


class Reminder(BaseModel):
    """One message to the customer managers of a unit (and the one named, if any)."""

    key: str
    unit: str
    monitor: str
    at: datetime
    text: str
    customer_manager: str | None = None


def business_type_for(voltage: str) -> str:
    return "lv_non_residential" if voltage in ("220V", "380V") else "hv"


class IntegrationActivities:
    def __init__(
        self, engine: Engine, client: Client | None, settings: Settings | None = None
    ) -> None:
        self._engine = engine
        self._client = client
        self._settings = settings or Settings()
        self._outbox = OutboxQueue(engine)
        self._windows = SendWindows(
            self._settings.sms_progress_hours, get_calendar, policy_for_unit
        )

    @activity.defn
    def preliminary_plan(self, project: ProjectApproved) -> PlanAnswer:
        """初步供电方案: the plan engine on the grid near the project, as the plan preview
        computes it; a project the engine cannot plan gets the reason instead."""
        try:
            policy = load_policy(project.unit)
        except PolicyError as exc:
            return PlanAnswer(note=f"no preliminary plan: the unit's pack is invalid ({exc})")
        profile = ApplicationProfile(
            unit=project.unit,
            business_type=business_type_for(project.voltage),
            voltage=project.voltage,
            capacity_kva=project.expected_load_kva,
            channel="reserve",
            accepted_at=datetime.now(UTC),
            location=project.location,
        )
        request = PlanRequest.from_profile(profile, location=project.location)
        radius = search_radius_km(policy, project.voltage)
        province = project.unit.split("/", 1)[0]
        with Session(self._engine) as session:
            rows = rows_near(
                session, project.location.lon, project.location.lat, radius, province, None
            )
        try:
            return PlanAnswer(plan=plan(request, snapshot_of(rows), policy))
        except ValueError as exc:
            return PlanAnswer(note=f"no preliminary plan: {exc}")

    @activity.defn
    def write_reserve_project(self, status: ReserveProjectStatus, name: str) -> None:
        store.upsert(
            self._engine,
            store.ReserveProjectRow(
                id=status.project_id,
                unit=status.unit,
                state=status.state,
                voltage=status.voltage,
                expected_load_kva=status.expected_load_kva,
                name=name,
                received_at=status.received_at,
                next_reminder_at=status.next_reminder_at,
                reminders=len(status.reminders),
                follow_ups=len(status.follow_ups),
                application_no=status.application_no,
                status=status.model_dump(mode="json"),
                updated_at=datetime.now(UTC),
            ),
        )

    @activity.defn
    def write_registration(self, status: RegistrationStatus) -> None:
        store.upsert(
            self._engine,
            store.RegistrationRow(
                registration_no=status.registration_no,
                unit=status.unit,
                state=status.state,
                received_at=status.received_at,
                next_reminder_at=status.next_reminder_at,
                reminders=len(status.reminders),
                application_no=status.application_no,
                customer_manager=status.customer_manager,
                status=status.model_dump(mode="json"),
                updated_at=datetime.now(UTC),
            ),
        )

    @activity.defn
    def remind(self, reminder: Reminder) -> int:
        """Queue the reminder for the unit's customer managers in the next warning window;
        the outbox's key (workflow, reminder, level, phone) makes a retry queue nothing."""
        start, end = self._windows(reminder.unit, "warning", reminder.at, join_open=False)
        staff = self._outbox.candidate_staff(reminder.unit, reminder.customer_manager)
        res = select_recipients(
            staff, reminder.unit, [CUSTOMER_MANAGER], reminder.customer_manager, ()
        )
        rows = [
            OutboxBase(
                application_no=reminder.key,
                unit=reminder.unit,
                kind="warning",
                monitor=reminder.monitor,
                code=reminder.monitor.split(".", 1)[0],
                level="reminder",
                phone=r.phone,
                role=r.roles[0],
                roles=r.roles,
                staff_code=r.staff_code,
                message=reminder.text,
                send_after=start,
                send_before=end,
                window="warning",
                created_at=datetime.now(UTC),
            )
            for r in res.recipients
        ]
        inserted = self._outbox.enqueue(rows)
        log.info("%s %s: %d reminder(s) queued", reminder.key, reminder.monitor, inserted)
        return inserted

    @activity.defn
    async def start_application(self, req: StartApplication) -> str:
        """Start the formal application; an application already started under this number (a
        retried activity) is the one this call started."""
        if self._client is None:
            raise ApplicationError("the worker has no Temporal client", non_retryable=True)
        profile = ApplicationProfile(
            unit=req.profile_unit,
            business_type=req.business_type,
            voltage=req.voltage,
            capacity_kva=req.capacity_kva,
            capacity_kw=req.capacity_kw,
            small_micro=req.small_micro,
            important=req.important,
            dual_power=req.dual_power,
            channel=req.channel,
            accepted_at=req.accepted_at,
            location=req.location,
        )
        inp = ApplicationInput(
            application_no=req.application_no,
            profile=profile,
            customer=req.customer,
            customer_manager=req.customer_manager,
        )
        start = start_input(inp)
        stage = initial_status(start, max(req.accepted_at, datetime.now(UTC))).stage
        # Already started by an earlier attempt (and closed since): that one is this call's.
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                APPLICATION_WORKFLOW,
                start,
                id=workflow_id(req.application_no),
                task_queue=activity.info().task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                search_attributes=initial_search_attributes(inp, stage),
                static_summary=summary(inp, None),
                memo={"origin": req.origin},
            )
        log.info("%s: application %s started", req.origin, req.application_no)
        return req.application_no

    @activity.defn
    async def apply_permit(self, inp: PermitInput) -> PermitOutcome:
        """Record a permit result on its application, which decides (domain.permits): the
        stage completes when every kind its plan lists is approved; a rejection reopens it and
        returns the application to its customer manager. A result older than the kind's
        latest changes nothing."""
        p = inp.permit
        kept, _ = store.record_permit(
            self._engine, p.application_no, p.kind, p.result, p.decided_at, inp.delivery
        )
        if not kept:
            return self._done(inp, PermitOutcome(outcome="superseded"))
        with Session(self._engine) as session:
            app = session.get(ApplicationRow, p.application_no)
            manager = app.customer_manager if app is not None else None
            unit = app.unit if app is not None else None
        req = RecordPermitRequest(
            kind=p.kind, result=p.result, decided_at=p.decided_at, delivery=inp.delivery
        )
        outcome = await self._record(p.application_no, req)
        if p.result == "approved" or outcome.outcome not in ("recorded", "unchanged"):
            return self._done(inp, outcome)
        outcome = outcome.model_copy(update={"returned_to": manager})
        if unit is not None:
            self.remind(
                Reminder(
                    key=p.application_no,
                    unit=unit,
                    monitor=f"permit.{p.kind}.rejected.{inp.delivery}",
                    at=p.decided_at,
                    text=f"【业扩】工单{p.application_no}外线工程行政审批({p.kind})未通过，已退回客户经理，请重新办理",
                    customer_manager=manager,
                )
            )
        return self._done(inp, outcome)

    async def _record(self, application_no: str, req: RecordPermitRequest) -> PermitOutcome:
        if self._client is None:
            raise ApplicationError("the worker has no Temporal client", non_retryable=True)
        handle = self._client.get_workflow_handle(workflow_id(application_no))
        try:
            answer = await handle.execute_update("record_permit", req, result_type=PermitAnswer)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            refusal = (
                Refusal.from_details(cause.details)
                if isinstance(cause, ApplicationError) and cause.type == REFUSAL_ERROR_TYPE
                else None
            )
            reason = refusal.message if refusal is not None else "the application refused it"
            return PermitOutcome(outcome="refused", reason=reason)
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
            return PermitOutcome(outcome="missing", reason="no running application")
        return PermitOutcome(outcome=answer.outcome, event=answer.event, reason=answer.reason)

    def _done(self, inp: PermitInput, outcome: PermitOutcome) -> PermitOutcome:
        store.permit_outcome(self._engine, inp.permit.application_no, inp.permit.kind, outcome)
        effect = outcome.outcome + (f" {outcome.event}" if outcome.event else "")
        store.set_effect(
            self._engine, inp.delivery, effect + (f": {outcome.reason}" if outcome.reason else "")
        )
        log.info("permit delivery %d: %s", inp.delivery, effect)
        return outcome


def integration_activities(
    engine: Engine, settings: Settings | None, client: Client | None
) -> list[Callable[..., Any]]:
    """The activities the integrations' workflows call, for the worker to register."""
    acts = IntegrationActivities(engine, client, settings)
    return [
        acts.preliminary_plan,
        acts.write_reserve_project,
        acts.write_registration,
        acts.remind,
        acts.start_application,
        acts.apply_permit,
    ]
