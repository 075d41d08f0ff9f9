"""CalendarPublisher: sends a region's published calendar to every running application.

One per region (workflow ID `calendar-publish-<REGION>`), started by the API with
signal-with-start: the `publish` signal starts it, or reaches the running one. It publishes one
version at a time, page by page:

1. the sweep: list a page of running ConnectionApplications by visibility query (the server's
   order, resumed with its page token), signal the page `calendar_updated(snapshot)` with
   bounded concurrency, record progress in the read model; until the last page;
2. the catch-up: once `catch_up_after_seconds` have passed since the publication started,
   the same over the applications started since shortly before it: those the listing could
   not see yet (visibility lags), and those started by a process still on the old files
   (every process's calendar cache re-checks its files every few seconds).

A `publish` of a newer calendar while one runs is queued; at the next page boundary the
running one stops and the newest starts from the first page (an application only needs the
newest; the versions in between are skipped). A request whose files were read earlier than
the newest known request, or for the version already asked for, is ignored. Every step is
idempotent: an application ignores a version it already has. The history stays short:
continue-as-new after `pages_per_run` pages or when the server suggests it, carrying the
queue and the cursor; with nothing left to publish the workflow completes.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.common import RetryPolicy

if TYPE_CHECKING:
    from temporalio.client import Client

with workflow.unsafe.imports_passed_through():
    from activities.calendar_publishing import CalendarPublishingActivities
    from contracts.calendar_publication import (
        RUNNING_APPLICATIONS,
        ApplicationPage,
        ApplicationPageRequest,
        PublicationProgress,
        PublisherInput,
        PublisherState,
        PublishRequest,
        SignalPageRequest,
        SignalPageResult,
        publication_id,
        publisher_id,
    )

#: The catch-up covers the applications started from this long before the publication
#: started (the sweep may not have seen them: visibility lags) until this long after the
#: files were read (a process whose calendar cache had not yet seen the new files, which it
#: looks at every 5 s, may have started one on the old ones). Later ones have the new files.
CATCH_UP_MARGIN = timedelta(seconds=15)
LIST_TIMEOUT = timedelta(minutes=1)
SIGNAL_TIMEOUT = timedelta(minutes=10)
SIGNAL_HEARTBEAT = timedelta(minutes=1)
RECORD_TIMEOUT = timedelta(seconds=30)
# The server or the database may be down for a while: keep trying, never skip a page.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


@workflow.defn
class CalendarPublisher:
    @workflow.init
    def __init__(self, inp: PublisherInput) -> None:
        self._inp = inp
        self._pending = inp.pending
        self._current = inp.current
        self._snapshot = inp.current_snapshot
        self._last = inp.last_published
        self._pages = 0  # in this run

    @workflow.run
    async def run(self, inp: PublisherInput) -> PublisherState:
        while True:
            if self._current is None:
                if self._pending is None:
                    return self.state()
                await self._begin(self._pending)
            await self._step()
            current = self._current
            assert current is not None
            if current.phase == "done":
                self._last, self._current, self._snapshot = current, None, None
            elif self._pending is not None:
                workflow.logger.info(
                    "calendar %s %s superseded by %s after %d pages",
                    current.region,
                    current.version,
                    self._pending.snapshot.version,
                    current.pages,
                )
                self._current, self._snapshot = None, None
            if (self._current or self._pending) and (
                self._pages >= inp.pages_per_run or workflow.info().is_continue_as_new_suggested()
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._carried())

    @workflow.signal
    def publish(self, req: PublishRequest) -> None:
        """Queue a calendar for publication (see the module's docstring for what is ignored)."""
        if req.snapshot.region != self._inp.region:
            workflow.logger.warning(
                "publisher of %s ignores a %s calendar", self._inp.region, req.snapshot.region
            )
            return
        newest = self._newest()
        if newest is not None and (
            req.requested_at < newest[1] or req.snapshot.version == newest[0]
        ):
            return
        if self._current is not None and req.snapshot.version == self._current.version:
            self._pending = None  # back to the one in progress: let it finish
            return
        self._pending = req

    @workflow.query
    def state(self) -> PublisherState:
        return PublisherState(
            region=self._inp.region,
            current=self._current,
            pending_version=self._pending.snapshot.version if self._pending else None,
            last_published=self._last,
        )

    # -- steps ---------------------------------------------------------------------------------

    def _newest(self) -> tuple[str, datetime] | None:
        """(version, files read at) of the newest request known."""
        if self._pending is not None:
            return self._pending.snapshot.version, self._pending.requested_at
        known = self._current or self._last
        return (known.version, known.requested_at) if known is not None else None

    async def _begin(self, req: PublishRequest) -> None:
        now = workflow.now()
        snap = req.snapshot
        self._current = PublicationProgress(
            region=snap.region,
            version=snap.version,
            publication_id=publication_id(snap.region, snap.version),
            requested_at=req.requested_at,
            started_at=now,
            recorded_at=now,
        )
        self._snapshot, self._pending = snap, None
        await self._record()

    async def _step(self) -> None:
        """One page of the current phase: list, signal, record."""
        cur, snapshot = self._current, self._snapshot
        assert cur is not None and snapshot is not None
        query = RUNNING_APPLICATIONS
        if cur.phase == "catch_up":
            if not await self._catch_up_due(cur):
                return  # a newer calendar came meanwhile
            window = catch_up_window(cur)
            if window is None:
                self._current = cur.model_copy(update=_done(workflow.now()))
                await self._record()
                return
            query += window
        page: ApplicationPage = await workflow.execute_activity_method(
            CalendarPublishingActivities.list_applications,
            ApplicationPageRequest(
                query=query, page_size=self._inp.page_size, next_page_token=cur.next_page_token
            ),
            start_to_close_timeout=LIST_TIMEOUT,
            retry_policy=RETRY,
            summary=f"list applications, page {cur.pages + 1}",
        )
        result = SignalPageResult(signalled=0, gone=0)
        if page.workflow_ids:
            result = await workflow.execute_activity_method(
                CalendarPublishingActivities.signal_applications,
                SignalPageRequest(
                    workflow_ids=page.workflow_ids,
                    snapshot=snapshot,
                    concurrency=self._inp.signal_concurrency,
                ),
                start_to_close_timeout=SIGNAL_TIMEOUT,
                heartbeat_timeout=SIGNAL_HEARTBEAT,
                retry_policy=RETRY,
                summary=f"signal {len(page.workflow_ids)} applications",
            )
        update: dict[str, object] = {
            "pages": cur.pages + 1,
            "signalled": cur.signalled + result.signalled,
            "gone": cur.gone + result.gone,
            "next_page_token": page.next_page_token,
            "recorded_at": workflow.now(),
        }
        if page.next_page_token is None:
            update.update({"phase": "catch_up"} if cur.phase == "sweep" else _done(workflow.now()))
        self._current = cur.model_copy(update=update)
        self._pages += 1
        await self._record()

    async def _catch_up_due(self, cur: PublicationProgress) -> bool:
        """Wait until the catch-up may list; False if a newer calendar came meanwhile."""
        wake = cur.started_at + timedelta(seconds=self._inp.catch_up_after_seconds)
        if workflow.now() < wake:
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._pending is not None,
                    timeout=wake - workflow.now(),
                    timeout_summary="catch-up pass",
                )
        return self._pending is None

    async def _record(self) -> None:
        cur = self._current
        assert cur is not None
        workflow.set_current_details(
            f"{cur.region} {cur.version}: {cur.state} ({cur.phase}), {cur.pages} pages, "
            f"{cur.signalled} applications signalled"
        )
        await workflow.execute_activity_method(
            CalendarPublishingActivities.record_publication,
            cur,
            start_to_close_timeout=RECORD_TIMEOUT,
            retry_policy=RETRY,
            summary=f"record {cur.state} {cur.version}",
        )

    def _carried(self) -> PublisherInput:
        return self._inp.model_copy(
            update={
                "pending": self._pending,
                "current": self._current,
                "current_snapshot": self._snapshot,
                "last_published": self._last,
            }
        )


async def request_publication(
    client: Client, task_queue: str, req: PublishRequest, inp: PublisherInput | None = None
) -> None:
    """Ask the region's publisher to publish `req` (signal-with-start: starts the publisher
    unless it runs, then signals it). Needs no worker to answer: the signal waits in the
    publisher's history until one runs it. `inp` applies only when this starts the publisher."""
    region = req.snapshot.region
    await client.start_workflow(
        CalendarPublisher.run,
        inp or PublisherInput(region=region),
        id=publisher_id(region),
        task_queue=task_queue,
        start_signal=CalendarPublisher.publish.__name__,
        start_signal_args=[req],
        static_summary=f"calendar publisher {region}: sends published calendars to running "
        "applications, page by page",
    )


def catch_up_window(cur: PublicationProgress) -> str | None:
    """The catch-up's visibility filter, or None when its window is empty (the publication
    started long after its files were read: the sweep saw every application that matters)."""
    since = cur.started_at - CATCH_UP_MARGIN
    until = cur.requested_at + CATCH_UP_MARGIN
    if until < since:
        return None
    return f" AND StartTime >= '{_rfc3339(since)}' AND StartTime <= '{_rfc3339(until)}'"


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _done(now: datetime) -> dict[str, object]:
    return {"phase": "done", "state": "published", "published_at": now, "recorded_at": now}
