"""The Temporal worker: hosts the workflows and activities on the project's task queue.

`python worker.py` runs it against TEMPORAL_ADDRESS (or the embedded dev server's address).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.calendar_publishing import CalendarPublishingActivities
from activities.changes import ChangeActivities
from activities.coordination import CoordinationActivities
from activities.grid import GridActivities
from activities.integrations import integration_activities
from activities.notifications import NotificationActivities
from activities.outages import OutageActivities
from activities.plans import PlanActivities
from activities.projection import ProjectionActivities
from core.config import Settings, get_settings
from core.db import get_engine
from core.gc_tuning import tune_gc
from core.logging import configure_logging
from core.metrics import ActivityMetrics, sdk_runtime, serve_worker_metrics
from core.temporal import connect
from readmodel import init_db
from workflows.calendar_publisher import CalendarPublisher
from workflows.connection_application import ConnectionApplication
from workflows.integration_workflows import INTEGRATION_WORKFLOWS
from workflows.sms_dispatcher import DispatcherInput, SmsDispatcher, ensure_dispatcher

log = logging.getLogger("worker")

WORKFLOWS = [ConnectionApplication, SmsDispatcher, CalendarPublisher, *INTEGRATION_WORKFLOWS]
# The workflow modules are passed through like the domain they call: the sandbox would
# otherwise find and execute `workflows.connection_application` again for every workflow it
# instantiates, three quarters of an application's first task (bench/RESULTS.md, go-live
# import). They hold no state of their own (constants and classes; tests/test_layers.py).
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows")
)


def activities_for(
    engine: Engine, settings: Settings | None = None, client: Client | None = None
) -> list[Callable[..., Any]]:
    projection = ProjectionActivities(engine)
    notifications = NotificationActivities(engine, settings)
    # The calendar publisher's activities list and signal workflows: they need the client.
    publishing: list[Callable[..., Any]] = []
    if client is not None:
        publisher = CalendarPublishingActivities(client, engine)
        publishing = [
            publisher.list_applications,
            publisher.signal_applications,
            publisher.record_publication,
        ]
    return [
        ChangeActivities(projection, notifications).record_change,
        projection.project_application,
        notifications.enqueue_warning,
        notifications.enqueue_progress,
        notifications.dispatch_due,
        *publishing,
        *_grid_and_plans(engine),
        *integration_activities(engine, settings, client),
        *_outages(OutageActivities(engine, settings)),
        CoordinationActivities(engine, settings).write_notices,
    ]


def _grid_and_plans(engine: Engine) -> list[Callable[..., Any]]:
    grid, plans = GridActivities(engine), PlanActivities(engine)
    return [
        grid.grid_snapshot,
        grid.reserve_capacity,
        grid.release_capacity,
        plans.make_plan,
        plans.release_plan,
    ]


def _outages(outages: OutageActivities) -> list[Callable[..., Any]]:
    return [outages.schedule_outage, outages.settle_outage]


def build_worker(
    client: Client,
    engine: Engine,
    task_queue: str,
    executor: concurrent.futures.Executor,
    settings: Settings | None = None,
) -> Worker:
    tuning = settings or get_settings()
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(engine, settings, client),
        activity_executor=executor,
        interceptors=[ActivityMetrics()],
        max_cached_workflows=tuning.worker_max_cached_workflows,
        max_concurrent_workflow_tasks=tuning.worker_max_concurrent_workflow_tasks,
        workflow_runner=WORKFLOW_RUNNER,
    )


async def main(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    engine = get_engine(settings)
    init_db(engine)
    serve_worker_metrics(settings)
    client = await connect(settings, runtime=sdk_runtime(settings))
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as executor:
        worker = build_worker(client, engine, settings.temporal_task_queue, executor, settings)
        tune_gc()
        await ensure_dispatcher(
            client,
            settings.temporal_task_queue,
            DispatcherInput(poll_minutes=settings.sms_dispatch_poll_minutes),
        )
        log.info(
            "worker polling task queue %s on %s",
            settings.temporal_task_queue,
            settings.effective_temporal_address,
        )
        await worker.run()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
