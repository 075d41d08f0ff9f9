"""CalendarPublisher scenarios shared by its tests and the history recorder.

They run on a real dev server (the time-skipping test server does not implement visibility
queries, which the publisher pages through). Each starts a few cheap applications, publishes
amended CN calendars (built in memory: no data files change) and waits for the publisher.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

from temporalio.api.workflowservice.v1 import CountWorkflowExecutionsRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode

from calendars import Calendar, get_calendar
from contracts.application import ApplicationStart, workflow_id
from contracts.calendar_publication import (
    RUNNING_APPLICATIONS,
    PublisherInput,
    PublisherState,
    PublishRequest,
    publisher_id,
)
from domain.start import start_input
from domain.views import initial_search_attributes
from tests.scenarios import TZ, application
from workflows.calendar_publisher import CalendarPublisher, request_publication
from workflows.connection_application import ConnectionApplication


def cheap_start(no: str) -> ApplicationStart:
    """A low-voltage residential application with no customer messages: the least work a
    running application can cost the worker."""
    inp = application(
        no,
        datetime.now(TZ),
        business_type="lv_residential",
        voltage="220V",
        capacity_kva=8,
    )
    inp = inp.model_copy(update={"notify_customer": False, "customer_manager": None})
    return start_input(inp)


async def start_applications(
    client: Client, task_queue: str, numbers: list[str], concurrency: int = 32
) -> list[str]:
    """Start one application per number, `concurrency` starts at a time; their workflow IDs."""
    if not numbers:
        return []
    base = cheap_start(numbers[0])
    limit = asyncio.Semaphore(concurrency)

    async def start(no: str) -> str:
        app = base.application.model_copy(update={"application_no": no})
        async with limit:
            handle = await client.start_workflow(
                ConnectionApplication.run,
                base.model_copy(update={"application": app}),
                id=workflow_id(no),
                task_queue=task_queue,
                search_attributes=initial_search_attributes(app),
            )
        return handle.id

    return list(await asyncio.gather(*(start(no) for no in numbers)))


async def running_applications(client: Client, query: str = RUNNING_APPLICATIONS) -> int:
    answer = await client.workflow_service.count_workflow_executions(
        CountWorkflowExecutionsRequest(namespace=client.namespace, query=query)
    )
    return int(answer.count)


async def until_visible(client: Client, ids: list[str], timeout: float = 60) -> None:
    """Wait until visibility lists every one of `ids` as running (it lags the starts)."""
    query = f"{RUNNING_APPLICATIONS} AND WorkflowId IN ({', '.join(repr(i) for i in ids)})"
    for _ in range(int(timeout * 10)):
        if await running_applications(client, query) == len(ids):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"visibility did not list {len(ids)} running applications")


def amended_cn(tag: str, rest_day: date) -> Calendar:
    """The CN calendar with one more rest day (in a published year), under a version of its
    own."""
    cal = get_calendar("CN")
    return Calendar(
        region="CN",
        version=f"{cal.version}-{tag}",
        published_years=cal.published_years,
        holidays=sorted({*cal.holidays(), rest_day}),
        makeup_workdays=cal.makeup_workdays(),
    )


async def take_over_publisher(client: Client, region: str = "CN") -> None:
    """Terminate a publisher of the region left running (a test wants its own input)."""
    handle = client.get_workflow_handle(publisher_id(region))
    try:
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.terminate(reason="a test takes over the publisher")
    except RPCError:
        pass  # none yet


async def calendar_versions(
    client: Client, ids: list[str], concurrency: int = 20
) -> dict[str, str]:
    """The calendar version each application's status query reports. A query waits behind
    the workflow tasks queued for its workflow (a fan-out queues one per application), so
    they go a few at a time, each with time to wait its turn."""
    limit = asyncio.Semaphore(concurrency)

    async def version(wid: str) -> str:
        handle = client.get_workflow_handle(wid)
        async with limit:
            for attempt in range(10):
                try:
                    status = await handle.query(
                        ConnectionApplication.status, rpc_timeout=timedelta(minutes=1)
                    )
                    break
                except RPCError as exc:
                    # The server gives up on a query the worker has not picked up in time.
                    if exc.status != RPCStatusCode.DEADLINE_EXCEEDED or attempt == 9:
                        raise
        assert status.calendar is not None
        return status.calendar.version

    return dict(zip(ids, await asyncio.gather(*(version(w) for w in ids)), strict=True))


async def second_run(client: Client, wid: str) -> str:
    """The run ID that the first run of `wid` continued as."""
    latest = await client.get_workflow_handle(wid).fetch_history()
    first = latest.events[0].workflow_execution_started_event_attributes.first_execution_run_id
    history = await client.get_workflow_handle(wid, run_id=first).fetch_history()
    return history.events[
        -1
    ].workflow_execution_continued_as_new_event_attributes.new_execution_run_id


class Published:
    def __init__(self, ids: list[str], calendar: Calendar, state: PublisherState) -> None:
        self.ids = ids
        self.calendar = calendar
        self.state = state
        self.histories: dict[str, WorkflowHistory] = {}


async def publish_superseded(client: Client, task_queue: str, prefix: str) -> Published:
    """A newer calendar requested while one is being published, then an older read of the
    files: the first stops at a page boundary, the newest is published to every application
    in pages of two, and the older read is ignored."""
    ids = await start_applications(client, task_queue, [f"{prefix}{i:03d}" for i in range(5)])
    await until_visible(client, ids)
    await take_over_publisher(client)
    first = amended_cn(f"{prefix}-a", date(2026, 6, 10))
    second = amended_cn(f"{prefix}-b", date(2026, 6, 11))
    t = datetime.now(UTC)
    inp = PublisherInput(region="CN", page_size=2, catch_up_after_seconds=1)
    await request_publication(
        client, task_queue, PublishRequest(snapshot=first.snapshot(), requested_at=t), inp
    )
    handle = client.get_workflow_handle_for(CalendarPublisher.run, publisher_id("CN"))
    for _ in range(600):
        state = await handle.query(CalendarPublisher.state)
        if state.current is not None and state.current.pages >= 1:
            break
        await asyncio.sleep(0.05)
    for req in (
        PublishRequest(snapshot=second.snapshot(), requested_at=t + timedelta(seconds=1)),
        PublishRequest(snapshot=first.snapshot(), requested_at=t - timedelta(seconds=1)),
    ):
        await request_publication(client, task_queue, req)
    out = Published(ids, second, await handle.result())
    out.histories["calendar_publisher"] = await handle.fetch_history()
    return out


async def publish_continued_as_new(client: Client, task_queue: str, prefix: str) -> Published:
    """Pages of two, one page per run: the cursor and the publication carry over."""
    ids = await start_applications(client, task_queue, [f"{prefix}{i:03d}" for i in range(5)])
    await until_visible(client, ids)
    await take_over_publisher(client)
    cal = amended_cn(f"{prefix}-c", date(2026, 6, 12))
    inp = PublisherInput(region="CN", page_size=2, pages_per_run=1, catch_up_after_seconds=1)
    req = PublishRequest(snapshot=cal.snapshot(), requested_at=datetime.now(UTC))
    await request_publication(client, task_queue, req, inp)
    handle = client.get_workflow_handle_for(CalendarPublisher.run, publisher_id("CN"))
    out = Published(ids, cal, await handle.result())
    # The second run starts from carried state: a publication under way, its cursor.
    second = client.get_workflow_handle(handle.id, run_id=await second_run(client, handle.id))
    out.histories["calendar_publisher_continued"] = await second.fetch_history()
    return out


Scenario = Callable[[Client, str, str], Awaitable[Published]]
SCENARIOS: dict[str, Scenario] = {
    "calendar_publisher": publish_superseded,
    "calendar_publisher_continued": publish_continued_as_new,
}
