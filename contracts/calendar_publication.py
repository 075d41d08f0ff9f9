"""Payloads of the CalendarPublisher workflow and its activities.

Publishing a region's calendar sends its snapshot to every running application, page by page
(docs/workflow.md, "Calendar changes reach running applications"). These travel through
Temporal histories: add fields with defaults, never rename or remove one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from calendars.snapshot import CalendarSnapshot

#: The application workflow's type and its signal, by name: the publisher's activities signal
#: them without importing the workflow (a test checks the names against the workflow).
APPLICATION_WORKFLOW = "ConnectionApplication"
CALENDAR_UPDATED_SIGNAL = "calendar_updated"
RUNNING_APPLICATIONS = f"WorkflowType = '{APPLICATION_WORKFLOW}' AND ExecutionStatus = 'Running'"

PUBLISHER_ID_PREFIX = "calendar-publish-"

PublicationState = Literal["publishing", "published"]
#: The sweep pages through every running application; the catch-up pass then pages through
#: those started since shortly before the publication (see CalendarPublisher).
Phase = Literal["sweep", "catch_up", "done"]


def publisher_id(region: str) -> str:
    """One publisher per region: `calendar-publish-CN`."""
    return f"{PUBLISHER_ID_PREFIX}{region.upper()}"


def publication_id(region: str, version: str) -> str:
    """A publication is named by what it publishes: `CN-3f2a9c0d1e4b`."""
    return f"{region.upper()}-{version}"


class PublishRequest(BaseModel):
    """The publisher's `publish` signal: a region's calendar, as read from the files."""

    snapshot: CalendarSnapshot
    #: When the files were read. Of two requests, the later read wins, whatever order their
    #: signals arrive in (two API processes may read before and after a deployment).
    requested_at: datetime


class PublicationProgress(BaseModel):
    """One publication's progress: the publisher's state, and the read model's row."""

    region: str
    version: str
    publication_id: str
    requested_at: datetime
    started_at: datetime
    state: PublicationState = "publishing"
    phase: Phase = "sweep"
    #: The visibility cursor of the current phase (base64 of the server's page token).
    next_page_token: str | None = None
    pages: int = 0
    #: Applications signalled (each ignores a version it already has).
    signalled: int = 0
    #: Applications that had closed between the listing and the signal.
    gone: int = 0
    published_at: datetime | None = None
    #: workflow.now() of this record: the read model keeps only the newest record.
    recorded_at: datetime


class PublisherInput(BaseModel):
    region: str
    page_size: int = Field(default=500, ge=1, le=1000)
    #: Signals in flight at once, per page.
    signal_concurrency: int = Field(default=20, ge=1, le=200)
    #: Pages per run before continue-as-new (or earlier when the server suggests it).
    pages_per_run: int = Field(default=50, ge=1)
    #: The catch-up pass lists no earlier than this after the publication started: a few
    #: re-checks of every process's calendar cache (5 s, calendars/cache.py) plus the
    #: visibility store's lag, with room to spare.
    catch_up_after_seconds: float = Field(default=15, ge=0, le=3600)
    #: Carried over continue-as-new.
    pending: PublishRequest | None = None
    current: PublicationProgress | None = None
    current_snapshot: CalendarSnapshot | None = None
    last_published: PublicationProgress | None = None


class PublisherState(BaseModel):
    """The `state` query's answer."""

    region: str
    current: PublicationProgress | None
    pending_version: str | None
    last_published: PublicationProgress | None


class ApplicationPageRequest(BaseModel):
    query: str
    page_size: int
    next_page_token: str | None = None


class ApplicationPage(BaseModel):
    workflow_ids: list[str]
    #: None when this was the last page.
    next_page_token: str | None = None


class SignalPageRequest(BaseModel):
    workflow_ids: list[str]
    snapshot: CalendarSnapshot
    concurrency: int = 20


class SignalPageResult(BaseModel):
    signalled: int
    gone: int
