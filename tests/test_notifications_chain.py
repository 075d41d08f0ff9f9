"""End to end on a time-skipping server: an overdue 10 kV application in Sanmenxia, the demo
organisation, the dispatcher and the log gateway. Each warning reaches exactly the documents'
recipients for its level (附件4 二(一)5), in the first send window after it was raised, once."""

from __future__ import annotations

import concurrent.futures
import json
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest_asyncio
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.changes import ChangeActivities
from activities.coordination import CoordinationActivities
from activities.gateways import LogGateway
from activities.notifications import NotificationActivities
from activities.projection import ProjectionActivities
from calendars import Calendar
from contracts.application import ApplicationStatus, RaisedWarning, WarningNotice
from core.config import Settings
from core.db import make_engine
from core.temporal import register_search_attributes
from domain.notifications.windows import next_window, window_spec
from policies.loader import load_policy
from readmodel import init_db
from readmodel.demo_org import seed_demo_org
from readmodel.outbox import OutboxRow, UndeliverableRow
from tests.scenarios import Driver, advance, application, shifted_start
from worker import WORKFLOWS
from workflows.sms_dispatcher import DispatcherInput, SmsDispatcher

POLICY = load_policy("henan/sanmenxia")
# 附件4 二(一)5 短信接收人, as the demo organisation holds them for Sanmenxia.
EXPECTED = {
    "blue": {"cm-001", "cs-smx"},
    "yellow": {"cm-001", "cs-smx", "mdd-smx", "md-smx", "ex-smx"},
    "orange": {"cm-001", "cs-smx", "mdd-smx", "md-smx"},
    "red": {"cm-001", "cs-smx", "mdd-smx", "md-smx", "ex-smx"},
}
# A coordination notice's warnings also chase its departments still to answer (附件4 协同通知:
# 协同部门处理人员, 副主任, 主任, 主管领导, 省公司专业部门主管领导): the joint survey's
# (operations, dispatch, development), as the demo organisation holds them.
SURVEY = ("ops", "dsp", "dev")
COORDINATORS = {f"co-{d}-smx" for d in SURVEY}
DEPARTMENT_CHAIN = (
    COORDINATORS
    | {f"{role}-{d}-smx" for role in ("ddd", "dd", "de") for d in SURVEY}
    | {f"pdh-{d}" for d in SURVEY}
)
CHASED = {
    "blue": COORDINATORS,
    "yellow": DEPARTMENT_CHAIN,
    "orange": COORDINATORS,
    "red": DEPARTMENT_CHAIN,
}
NO = "CHAIN0001"
QUIET = "CHAIN0002"  # the same application from a customer who refused progress messages


@pytest_asyncio.fixture(scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    e = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await register_search_attributes(e.client)
    async with e:
        yield e


def to_notice(no: str, w: RaisedWarning, coordination: bool) -> WarningNotice:
    """What the workflow hands to enqueue_warning when it raises `w`."""
    return WarningNotice(
        application_no=no,
        unit="henan/sanmenxia",
        business_type="hv",
        voltage="10kV",
        customer_manager="cm-001",
        monitor=w.monitor,
        code=w.code,
        level=w.level,
        due_at=w.due_at,
        raised_at=w.raised_at,
        roles=w.roles,
        coordination=coordination,
        result=w.result,
        source=w.source,
    )


async def walk_every_threshold(
    env: WorkflowEnvironment, driver: Driver, acts: NotificationActivities, no: str
) -> datetime:
    """Walk through every threshold of the plan reply (never completed) and of the whole
    process, handing each raised warning to the outbox as the workflow does; the last one."""
    status = await driver.status()
    instants = sorted(
        {
            th.due_at
            for m in status.monitors
            if m.id in {"hv.plan_reply", "hv.full_process"}
            for th in m.thresholds
            if th.due_at is not None
        }
    )
    assert len(instants) >= 4
    seen: set[tuple[str, str]] = set()
    for instant in instants:
        await advance(env, instant + timedelta(seconds=1))
        now = await driver.status()
        coordination = {m.id: m.coordination for m in now.monitors}
        for w in now.warnings:
            if (w.monitor, w.level) not in seen:
                seen.add((w.monitor, w.level))
                acts.enqueue_warning(to_notice(no, w, coordination[w.monitor]))
    return instants[-1]


async def run_overdue(
    env: WorkflowEnvironment,
    engine: Engine,
    acts: NotificationActivities,
    cal: Calendar,
    t0: datetime,
) -> ApplicationStatus:
    """CHAIN0001 and CHAIN0002 (the same application from a customer who refused progress
    messages) left overdue past their last threshold, with the dispatcher running; the first's
    final status."""
    projection = ProjectionActivities(engine)
    tq = "chain"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        async with Worker(
            env.client,
            task_queue=tq,
            workflows=WORKFLOWS,
            activities=[
                ChangeActivities(projection, acts).record_change,
                projection.project_application,
                acts.enqueue_warning,
                acts.enqueue_progress,
                acts.dispatch_due,
                # A Henan 10 kV application is issued its joint survey notices at acceptance.
                CoordinationActivities(engine).write_notices,
            ],
            activity_executor=pool,
        ):
            driver = await Driver.begin(env, tq, application(NO, t0), cal)
            quiet_inp = application(QUIET, t0).model_copy(update={"notify_customer": False})
            quiet = await Driver.begin(env, tq, quiet_inp, cal)
            dispatcher = await env.client.start_workflow(
                SmsDispatcher.run,
                DispatcherInput(poll_minutes=None),
                id="sms-dispatcher-chain",
                task_queue=tq,
            )
            last = await walk_every_threshold(env, driver, acts, NO)
            await advance(env, last + timedelta(days=5))
            final = await driver.status()
            await driver.handle.terminate("test over")
            await quiet.handle.terminate("test over")
            await dispatcher.terminate("test over")
    return final


def assert_each_warning_reached_its_recipients_in_the_window(
    final: ApplicationStatus, rows: list[OutboxRow], settings: Settings, cal: Calendar
) -> None:
    spec = window_spec(POLICY, "warning", settings.sms_progress_hours)
    by_warning: dict[tuple[str, str], set[str | None]] = {}
    for r in rows:
        by_warning.setdefault((r.monitor, r.level), set()).add(r.staff_code)
    assert set(by_warning) == {(w.monitor, w.level) for w in final.warnings}
    coordination = {m.id: m.coordination for m in final.monitors}
    for w in final.warnings:
        # The roles the workflow raised are the document's list for the level (with the
        # coordinators where the monitor chases departments, as a notice's does) ...
        document = POLICY.recipient_profiles["new_service"].for_level(w.level)
        assert document is not None
        chasing = set(document.coordination_roles) if coordination[w.monitor] else set()
        assert set(w.roles) == set(document.roles) | chasing
        # ... and the people are the demo organisation's holders of them.
        chased = CHASED[w.level] if w.monitor == "notice.joint_survey" else set()
        assert by_warning[(w.monitor, w.level)] == EXPECTED[w.level] | chased, w.monitor
        window_start, window_end = next_window(w.raised_at, spec, cal)
        for r in rows:
            if (r.monitor, r.level) == (w.monitor, w.level):
                assert r.state == "sent" and r.attempts == 1
                assert r.sent_at is not None and window_start <= r.sent_at < window_end


async def test_overdue_10kv_application_reaches_each_level_once_in_the_window(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'chain.db'}")
    init_db(engine)
    seed_demo_org(engine)
    shift, cal, t0 = await shifted_start(env)
    sms_file = tmp_path / "sms.jsonl"
    settings = Settings(data_dir=tmp_path)
    acts = NotificationActivities(
        engine, settings, gateway=LogGateway(sms_file), calendar_for=lambda _r: cal
    )
    final = await run_overdue(env, engine, acts, cal, t0)

    levels = {(w.monitor, w.level) for w in final.warnings}
    assert {lv for m, lv in levels if m == "hv.plan_reply"} == {"blue", "yellow", "orange", "red"}
    # The joint survey notices issued at acceptance, never answered, reached every level too.
    assert {lv for m, lv in levels if m == "notice.joint_survey"} == set(CHASED)
    with Session(engine) as s:
        every_row = s.exec(select(OutboxRow).where(OutboxRow.application_no == NO)).all()
        gaps = s.exec(select(UndeliverableRow)).all()
        quiet_rows = s.exec(select(OutboxRow).where(OutboxRow.application_no == QUIET)).all()
    # The acceptance message went to the customer (办电进程主动推送) ...
    [accepted] = [r for r in every_row if r.kind == "progress"]
    assert (accepted.monitor, accepted.phone, accepted.state) == (
        "progress.accepted",
        "13800000000",
        "sent",
    )
    # ... and not to the customer who opted out, whose staff were warned all the same.
    # (Its coordination notices went to the departments, as anyone's do.)
    assert {r.kind for r in quiet_rows} == {"warning", "notice"}
    rows = [r for r in every_row if r.kind == "warning"]
    assert gaps == []
    assert_each_warning_reached_its_recipients_in_the_window(final, rows, settings, cal)
    # Once: one line per row in the gateway's file, no phone twice for one warning.
    lines = [json.loads(x) for x in sms_file.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(every_row) + len(quiet_rows)
    assert {r.state for r in every_row} == {"sent"}
    per_warning = Counter((r.monitor, r.level, r.phone) for r in rows)
    assert max(per_warning.values()) == 1
    assert shift.days % 7 == 0
