"""The CalendarPublisher's activities: list a page of running applications, signal a page,
record progress in the read model. Each is idempotent, so a retry repeats nothing harmful:
listing only reads, an application ignores a calendar version it already has, and the read
model keeps only the newest progress record.
"""

from __future__ import annotations

import asyncio
import base64
import logging

from sqlalchemy import Engine
from temporalio import activity
from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from contracts.calendar_publication import (
    CALENDAR_UPDATED_SIGNAL,
    ApplicationPage,
    ApplicationPageRequest,
    PublicationProgress,
    SignalPageRequest,
    SignalPageResult,
)
from readmodel.calendar_publication import record_progress

log = logging.getLogger(__name__)


class CalendarPublishingActivities:
    def __init__(self, client: Client, engine: Engine) -> None:
        self._client = client
        self._engine = engine

    @activity.defn
    async def list_applications(self, req: ApplicationPageRequest) -> ApplicationPage:
        """One page of the workflow IDs the visibility query matches, in the server's order,
        and the cursor to the next page (None after the last)."""
        token = base64.b64decode(req.next_page_token) if req.next_page_token else b""
        answer = await self._client.workflow_service.list_workflow_executions(
            ListWorkflowExecutionsRequest(
                namespace=self._client.namespace,
                page_size=req.page_size,
                next_page_token=token,
                query=req.query,
            )
        )
        ids = list(dict.fromkeys(e.execution.workflow_id for e in answer.executions))
        following = answer.next_page_token
        return ApplicationPage(
            workflow_ids=ids,
            next_page_token=base64.b64encode(following).decode() if following else None,
        )

    @activity.defn
    async def signal_applications(self, req: SignalPageRequest) -> SignalPageResult:
        """Signal `calendar_updated(snapshot)` to each workflow of the page, at most
        `concurrency` at a time. A workflow that closed meanwhile counts as gone; any other
        failure fails the page, which is retried whole (a repeated signal is ignored)."""
        limit = asyncio.Semaphore(req.concurrency)
        done = 0

        async def signal(workflow_id: str) -> bool:
            nonlocal done
            async with limit:
                handle = self._client.get_workflow_handle(workflow_id)
                try:
                    await handle.signal(CALENDAR_UPDATED_SIGNAL, req.snapshot)
                except RPCError as exc:
                    if exc.status != RPCStatusCode.NOT_FOUND:
                        raise
                    return False
                finally:
                    done += 1
                    if done % 50 == 0:
                        activity.heartbeat(done)
                return True

        results = await asyncio.gather(*(signal(w) for w in req.workflow_ids))
        signalled = sum(results)
        return SignalPageResult(signalled=signalled, gone=len(results) - signalled)

    @activity.defn
    def record_publication(self, progress: PublicationProgress) -> None:
        record_progress(self._engine, progress)
        if progress.state == "published":
            log.info(
                "calendar %s %s published: %d applications signalled, %d closed meanwhile",
                progress.region,
                progress.version,
                progress.signalled,
                progress.gone,
            )
