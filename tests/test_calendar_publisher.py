"""The CalendarPublisher and the calendar_publication read model, on the real dev server."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.calendar_publishing import CalendarPublishingActivities
from api.app import create_app
from calendars import get_calendar
from contracts.calendar_publication import (
    APPLICATION_WORKFLOW,
    CALENDAR_UPDATED_SIGNAL,
    PublicationProgress,
    SignalPageRequest,
)
from readmodel.calendar_publication import get_publication, record_progress, record_request
from tests.publisher_scenarios import (
    calendar_versions,
    publish_continued_as_new,
    publish_superseded,
    start_applications,
)
from tests.support import add_rest_day, new_application_no
from workflows.connection_application import ConnectionApplication

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_the_names_the_activities_signal_are_the_workflows() -> None:
    assert ConnectionApplication.__temporal_workflow_definition.name == APPLICATION_WORKFLOW  # type: ignore[attr-defined]
    signals = ConnectionApplication.__temporal_workflow_definition.signals  # type: ignore[attr-defined]
    assert CALENDAR_UPDATED_SIGNAL in signals


# -- the read model ---------------------------------------------------------------------------


def progress(version: str, at: datetime, **changes: object) -> PublicationProgress:
    return PublicationProgress(
        region="CN",
        version=version,
        publication_id=f"CN-{version}",
        requested_at=at,
        started_at=at,
        recorded_at=at,
    ).model_copy(update=changes)


def test_an_older_request_never_overwrites_a_newer_one(db_engine: Engine) -> None:
    assert record_request(db_engine, "CN", "v2", T0 + timedelta(seconds=1))
    assert not record_request(db_engine, "CN", "v1", T0)  # read earlier, arrived later
    assert not record_request(db_engine, "CN", "v2", T0 + timedelta(seconds=2))  # claimed
    row = get_publication(db_engine, "cn")
    assert row is not None
    assert (row.requested_version, row.requested_at) == ("v2", T0 + timedelta(seconds=1))
    assert row.is_requested("v2") and not row.is_published("v2")


def test_progress_is_kept_only_when_not_older(db_engine: Engine) -> None:
    record_progress(db_engine, progress("v1", T0, pages=3, signalled=900))
    record_progress(db_engine, progress("v1", T0 - timedelta(seconds=1), pages=2))  # a late retry
    record_progress(db_engine, progress("v1", T0, pages=3, signalled=900))  # a repeat
    row = get_publication(db_engine, "CN")
    assert row is not None
    assert (row.pages, row.signalled, row.state) == (3, 900, "publishing")
    done = progress("v1", T0 + timedelta(minutes=1), state="published", pages=4, signalled=1000)
    record_progress(db_engine, done.model_copy(update={"published_at": done.recorded_at}))
    row = get_publication(db_engine, "CN")
    assert row is not None and row.is_published("v1") and not row.is_requested("v1")
    # A newer request for another version: v1 is no longer what publishing v1 leaves alone.
    assert record_request(db_engine, "CN", "v2", T0 + timedelta(minutes=2))
    row = get_publication(db_engine, "CN")
    assert row is not None and not row.is_published("v1") and row.is_requested("v2")


# -- the workflow -----------------------------------------------------------------------------


async def test_a_newer_calendar_supersedes_the_one_being_published(
    dev_env: WorkflowEnvironment, dev_worker: Worker, session_engine: Engine
) -> None:
    published = await publish_superseded(dev_env.client, dev_worker.task_queue, "PS")
    newest = published.calendar.version
    assert published.state.last_published is not None
    assert published.state.last_published.version == newest
    assert published.state.last_published.state == "published"
    versions = await calendar_versions(dev_env.client, published.ids)
    assert set(versions.values()) == {newest}
    # The older read of the files, sent last, was ignored.
    history = published.histories["calendar_publisher"]
    assert (
        sum(e.HasField("workflow_execution_signaled_event_attributes") for e in history.events) == 3
    )
    row = get_publication(session_engine, "CN")
    assert row is not None and row.version == newest and row.state == "published"
    assert row.signalled >= len(published.ids)


async def test_the_cursor_and_the_publication_carry_over_continue_as_new(
    dev_env: WorkflowEnvironment, dev_worker: Worker
) -> None:
    published = await publish_continued_as_new(dev_env.client, dev_worker.task_queue, "PC")
    versions = await calendar_versions(dev_env.client, published.ids)
    assert set(versions.values()) == {published.calendar.version}
    second = published.histories["calendar_publisher_continued"]
    started = second.events[0].workflow_execution_started_event_attributes
    assert started.continued_execution_run_id  # a later run, from carried state
    last = published.state.last_published
    assert last is not None and last.pages >= 3  # the sweep and the catch-up, across runs


# -- the API ----------------------------------------------------------------------------------


async def until_published(api: httpx.AsyncClient, version: str) -> dict[str, object]:
    for _ in range(900):
        r = await api.get("/api/calendars/CN/publication")
        if r.status_code == 200 and (r.json()["version"], r.json()["state"]) == (
            version,
            "published",
        ):
            return dict(r.json())
        await asyncio.sleep(0.1)
    raise AssertionError(f"{version} was not published")


async def test_publishing_an_unchanged_version_changes_nothing(
    api: httpx.AsyncClient, calendar_data: Path
) -> None:
    no = new_application_no()
    r = await api.post(
        "/api/applications",
        json={
            "application_no": no,
            "unit": "henan/sanmenxia",
            "business_type": "lv_residential",
            "voltage": "220V",
            "capacity_kva": 8,
            "customer": {"name": "测试客户"},
        },
    )
    assert r.status_code == 201, r.text
    add_rest_day(calendar_data, date(2026, 6, 15))

    first = await api.post("/api/calendars/CN/publish")
    assert first.status_code == 202, first.text
    version = first.json()["version"]
    assert first.json()["changed"] is True
    assert first.json()["publication_id"] == f"CN-{version}"
    assert first.json()["publisher_workflow_id"] == "calendar-publish-CN"

    again = await api.post("/api/calendars/CN/publish")  # while it runs
    assert again.status_code == 200, again.text
    assert again.json()["changed"] is False
    assert again.json()["version"] == version
    assert again.json()["state"] in ("publishing", "published")

    row = await until_published(api, version)
    assert int(str(row["signalled"])) >= 1
    status = (await api.get(f"/api/applications/{no}")).json()
    assert status["calendar"]["version"] == version

    done = await api.post("/api/calendars/CN/publish")
    assert done.status_code == 200
    assert done.json() | {"state": "published", "changed": False} == done.json()


async def test_the_publication_of_a_region_never_published_is_404(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/calendars/CN-ZZ/publication")
    assert r.status_code == 404


@pytest.fixture(scope="module")
def api_schema() -> dict[str, Any]:
    return create_app().openapi()


@pytest.mark.parametrize("status", [200, 202, 403, 404, 422, 503])
def test_publish_declares_its_statuses(api_schema: dict[str, Any], status: int) -> None:
    paths = api_schema["paths"]
    assert str(status) in paths["/api/calendars/{region}/publish"]["post"]["responses"]


async def test_a_page_counts_applications_closed_meanwhile_as_gone(
    dev_env: WorkflowEnvironment, dev_worker: Worker, db_engine: Engine
) -> None:
    """Listing and signalling are apart in time: an application may close in between."""
    ids = await start_applications(dev_env.client, dev_worker.task_queue, [new_application_no()])
    await dev_env.client.get_workflow_handle(ids[0]).terminate(reason="closed meanwhile")
    activities = CalendarPublishingActivities(dev_env.client, db_engine)
    page = SignalPageRequest(
        workflow_ids=[*ids, "app-NEVER-STARTED"], snapshot=get_calendar("CN").snapshot()
    )
    result = await activities.signal_applications(page)
    assert (result.signalled, result.gone) == (0, 2)
