"""ProposedRegistration: a small or micro business the market regulator registered, proposed
to the unit's customer managers as a `lv_small_micro` application for 主动办电 (ID
`registration-<registration no>`).

It is not an application yet: it waits, `proposed`, for a customer manager to `confirm` it,
which starts the ConnectionApplication on the proactive channel with the stages the pack gives
主动办电 (装表送电 alone at low voltage), or to `dismiss` it. Left unconfirmed for the pack's
interval (working days on the unit's calendar), it reminds the customer managers, again after
each further interval.

Deterministic: workflow.now(), the calendar from the start input; queries and validators only
read.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.integrations import IntegrationActivities, Reminder
    from calendars.calendar import Calendar
    from contracts.application import CancelRequest, Customer
    from contracts.errors import Refusal, refusal_error
    from contracts.integrations import (
        ConfirmRequest,
        ConvertResult,
        RegistrationStart,
        RegistrationStatus,
        StartApplication,
        registration_application_no,
        registration_workflow_id,
    )
    from workflows.integration_steps import ACTIVITY, START, next_working_instant, run_activity

CONFIRM = "registration.confirm"
#: 主动办电 reaches small and micro businesses on low voltage (000 三(三)1: 160 kW and below).
LOW_VOLTAGE = "380V"


@workflow.defn
class ProposedRegistration:
    @workflow.init
    def __init__(self, start: RegistrationStart) -> None:
        r = start.registration
        self._start = start
        self._status = RegistrationStatus(
            registration_no=r.registration_no,
            unit=r.unit,
            state="proposed",
            received_at=start.received_at,
            stages=start.stages,
            source=start.source,
        )
        self._calendar = Calendar.from_snapshot(start.calendar)
        self._confirming = False

    @workflow.run
    async def run(self, start: RegistrationStart) -> RegistrationStatus:  # noqa: ARG002  (read by __init__)
        self._plan_next()
        await self._write()
        while self._status.state == "proposed":
            due = self._status.next_reminder_at
            assert due is not None
            delay = max(due - workflow.now(), timedelta(milliseconds=1))
            try:
                await workflow.wait_condition(
                    lambda: self._status.state != "proposed", timeout=delay
                )
            except TimeoutError:
                await self._remind()
                await self._write()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._write()
        return self._status

    def _decided(self) -> bool:
        return self._status.state != "proposed"

    def _plan_next(self) -> None:
        since = self._status.reminders[-1] if self._status.reminders else self._start.received_at
        self._status.next_reminder_at = next_working_instant(
            self._calendar, since, self._start.confirm_within
        )

    async def _remind(self) -> None:
        due = self._status.next_reminder_at
        assert due is not None
        self._status.reminders.append(due)
        n = len(self._status.reminders)
        await run_activity(
            IntegrationActivities.remind,
            Reminder(
                key=registration_workflow_id(self._status.registration_no),
                unit=self._status.unit,
                monitor=f"{CONFIRM}.{n}",
                at=due,
                text=(
                    f"【主动办电】新登记小微企业{self._status.registration_no}尚未确认，"
                    "请联系客户并确认办电"
                ),
            ),
            ACTIVITY,
        )
        self._plan_next()

    async def _write(self) -> None:
        await run_activity(IntegrationActivities.write_registration, self._status, ACTIVITY)

    @workflow.query
    def status(self) -> RegistrationStatus:
        return self._status

    @workflow.update
    async def confirm(self, req: ConfirmRequest) -> ConvertResult:
        self._check_proposed()
        self._confirming = True
        r = self._start.registration
        application_no = registration_application_no(r.registration_no)
        try:
            await run_activity(
                IntegrationActivities.start_application,
                StartApplication(
                    application_no=application_no,
                    profile_unit=r.unit,
                    business_type="lv_small_micro",
                    voltage=LOW_VOLTAGE,
                    capacity_kw=req.capacity_kw,
                    small_micro=True,
                    channel="proactive",
                    accepted_at=req.accepted_at or workflow.now(),
                    customer=Customer(name=r.name, phone=r.contact, address=r.address),
                    customer_manager=req.customer_manager,
                    origin=registration_workflow_id(r.registration_no),
                ),
                START,
            )
        finally:
            self._confirming = False
        self._status.state = "confirmed"
        self._status.application_no = application_no
        self._status.customer_manager = req.customer_manager
        self._status.next_reminder_at = None
        return ConvertResult(
            project_id=r.registration_no,
            application_no=application_no,
            href=f"/api/applications/{application_no}",
        )

    @confirm.validator
    def _validate_confirm(self, req: ConfirmRequest) -> None:
        self._check_proposed()
        at = req.accepted_at
        if at is not None and at > workflow.now() + timedelta(minutes=5):
            raise refusal_error(
                Refusal.one("invalid", "accepted_at", f"{at.isoformat()} is in the future")
            )

    @workflow.update
    def dismiss(self, req: CancelRequest) -> RegistrationStatus:
        """The business wants no connection (or is not one to serve): nothing is started."""
        self._check_proposed()
        self._status.state = "dismissed"
        self._status.customer_manager = req.by
        self._status.next_reminder_at = None
        return self._status

    @dismiss.validator
    def _validate_dismiss(self, req: CancelRequest) -> None:  # noqa: ARG002
        self._check_proposed()

    def _check_proposed(self) -> None:
        if self._confirming:
            raise refusal_error(
                Refusal.one("conflict", "state", "the registration is being confirmed")
            )
        if self._status.state != "proposed":
            raise refusal_error(
                Refusal.one("conflict", "state", f"the registration is {self._status.state}")
            )
