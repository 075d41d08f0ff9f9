"""ReserveProject: one workflow per investment project the approval system approved (储备项目,
ID `reserve-<project id>`), from its preliminary plan to its conversion into a formal
application ("一键转正式").

- The preliminary plan (初步供电方案) comes from the plan engine on the grid near the project,
  read by an activity (the grid and the pack are files and tables: never read here).
- The customer manager follows the project up (`follow_up`); a reminder goes out whenever the
  pack's interval (e.g. 20 working days, on the unit's calendar) passes without one.
- `convert` starts the ConnectionApplication with the project's data, links the two and
  completes the project; the answer names the application.

Deterministic: workflow.now(), the calendar from the start input; queries and validators only
read.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.integrations import (
        IntegrationActivities,
        PlanAnswer,
        Reminder,
        business_type_for,
    )
    from calendars.calendar import Calendar
    from contracts.errors import Refusal, refusal_error
    from contracts.integrations import (
        ConvertRequest,
        ConvertResult,
        FollowUp,
        FollowUpRequest,
        ReserveProjectStart,
        ReserveProjectStatus,
        StartApplication,
        reserve_application_no,
        reserve_workflow_id,
    )
    from policies.schema import Duration
    from workflows.integration_steps import ACTIVITY, START, next_working_instant, run_activity

FOLLOW_UP = "reserve.follow_up"


@workflow.defn
class ReserveProject:
    @workflow.init
    def __init__(self, start: ReserveProjectStart) -> None:
        p = start.project
        self._start = start
        self._status = ReserveProjectStatus(
            project_id=p.id,
            unit=p.unit,
            state="reserved",
            voltage=p.voltage,
            expected_load_kva=p.expected_load_kva,
            expected_date=p.expected_date,
            received_at=start.received_at,
            follow_up_source=start.follow_up_source,
        )
        self._calendar = Calendar.from_snapshot(start.calendar)
        self._dirty = False
        self._converting = False

    @workflow.run
    async def run(self, start: ReserveProjectStart) -> ReserveProjectStatus:
        answer: PlanAnswer = await run_activity(
            IntegrationActivities.preliminary_plan, start.project, ACTIVITY
        )
        self._status.plan, self._status.plan_note = answer.plan, answer.note
        self._plan_next()
        await self._write()
        while self._status.state == "reserved":
            due = self._status.next_reminder_at
            assert due is not None
            woken = await self._wait(due)
            if not woken and self._status.state == "reserved":
                await self._remind(due)
            self._dirty = False
            await self._write()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._write()
        return self._status

    async def _wait(self, due: datetime) -> bool:
        """True when a follow-up or the conversion woke the workflow, False at `due`."""
        delay = max(due - workflow.now(), timedelta(milliseconds=1))
        try:
            await workflow.wait_condition(
                lambda: self._dirty or self._status.state != "reserved", timeout=delay
            )
        except TimeoutError:
            return False
        return True

    def _plan_next(self) -> None:
        last = self._status.follow_ups[-1].at if self._status.follow_ups else None
        since = max(x for x in (last, self._start.received_at, *self._status.reminders) if x)
        self._status.next_reminder_at = next_working_instant(
            self._calendar, since, self._start.follow_up_every
        )

    async def _remind(self, due: datetime) -> None:
        self._status.reminders.append(due)
        n = len(self._status.reminders)
        manager = next((f.by for f in reversed(self._status.follow_ups) if f.by), None)
        await run_activity(
            IntegrationActivities.remind,
            Reminder(
                key=reserve_workflow_id(self._status.project_id),
                unit=self._status.unit,
                monitor=f"{FOLLOW_UP}.{n}",
                at=due,
                text=(
                    f"【业扩储备】储备项目{self._status.project_id}已"
                    f"{_describe(self._start.follow_up_every)}未跟踪，请跟踪客户审批及项目进度"
                ),
                customer_manager=manager,
            ),
            ACTIVITY,
        )
        self._plan_next()

    async def _write(self) -> None:
        await run_activity(
            IntegrationActivities.write_reserve_project,
            (self._status, self._start.project.name),
            ACTIVITY,
        )

    # -- queries, updates --------------------------------------------------------------------

    @workflow.query
    def status(self) -> ReserveProjectStatus:
        return self._status

    @workflow.update
    def follow_up(self, req: FollowUpRequest) -> ReserveProjectStatus:
        self._check_reserved()
        at = req.at or workflow.now()
        self._status.follow_ups.append(FollowUp(at=at, by=req.by, note=req.note))
        self._plan_next()
        self._dirty = True
        return self._status

    @follow_up.validator
    def _validate_follow_up(self, req: FollowUpRequest) -> None:
        self._check_reserved()
        at = req.at or workflow.now()
        if at > workflow.now() + timedelta(minutes=5):
            raise refusal_error(Refusal.one("invalid", "at", f"{at.isoformat()} is in the future"))

    @workflow.update
    async def convert(self, req: ConvertRequest) -> ConvertResult:
        self._check_reserved()
        self._converting = True
        p = self._start.project
        application_no = reserve_application_no(p.id)
        try:
            await run_activity(
                IntegrationActivities.start_application,
                StartApplication(
                    application_no=application_no,
                    profile_unit=p.unit,
                    business_type=req.business_type or business_type_for(p.voltage),
                    voltage=p.voltage,
                    capacity_kva=p.expected_load_kva,
                    important=req.important,
                    dual_power=req.dual_power,
                    channel="reserve",
                    accepted_at=req.accepted_at,
                    location=p.location,
                    customer=req.customer,
                    customer_manager=req.customer_manager,
                    origin=reserve_workflow_id(p.id),
                ),
                START,
            )
        finally:
            self._converting = False
        self._status.application_no = application_no
        self._status.state = "converted"
        self._status.next_reminder_at = None
        return ConvertResult(
            project_id=p.id,
            application_no=application_no,
            href=f"/api/applications/{application_no}",
        )

    @convert.validator
    def _validate_convert(self, req: ConvertRequest) -> None:
        self._check_reserved()
        if req.accepted_at > workflow.now() + timedelta(minutes=5):
            raise refusal_error(
                Refusal.one(
                    "invalid", "accepted_at", f"{req.accepted_at.isoformat()} is in the future"
                )
            )

    def _check_reserved(self) -> None:
        if self._converting:
            raise refusal_error(Refusal.one("conflict", "state", "the project is being converted"))
        if self._status.state != "reserved":
            raise refusal_error(
                Refusal.one("conflict", "state", f"the project is {self._status.state}")
            )


def _describe(d: Duration) -> str:
    units = {"workday": "个工作日", "day": "天", "hour": "小时", "workhour": "个工作小时"}
    return f"{d.amount:g}{units.get(d.unit, d.unit)}"
