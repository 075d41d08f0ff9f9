"""Operability: the API's /metrics (the read model's counts at scrape), the worker's metrics
(warning latency where warnings are written, failed activity attempts by type) and the Temporal
SDK's on their ports, and JSON logs carrying the application number."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlmodel import Session, select
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.notifications import NotificationActivities
from activities.projection import ProjectionActivities
from api.app import attach, create_app
from calendars import get_calendar
from contracts.application import (
    ApplicationProfile,
    ApplicationStatus,
    Customer,
    ProjectionInput,
    RaisedWarning,
)
from core.config import Settings
from core.logging import JsonFormatter, configure_logging
from core.metrics import ActivityMetrics, sdk_runtime, serve_worker_metrics
from core.temporal import connect
from readmodel.demo_org import seed_demo_org
from readmodel.outbox import OutboxRow
from tests.notification_scenarios import sample_notice
from tests.support import free_port
from worker import build_worker

T0 = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)
PROFILE = ApplicationProfile(
    unit="henan/sanmenxia", business_type="hv", voltage="10kV", capacity_kva=630, accepted_at=T0
)


def projection(
    no: str, *, state: str = "running", level: str | None = None, warnings: list[RaisedWarning]
) -> ProjectionInput:
    return ProjectionInput(
        application_no=no,
        profile=PROFILE,
        customer=Customer(name="测试客户", phone="13800000000"),
        customer_manager=None,
        state=state,  # type: ignore[arg-type]
        stage="plan_reply",
        updated_at=T0,
        warning_level=level,  # type: ignore[arg-type]
        warnings=warnings,
        final_status=(
            ApplicationStatus(application_no=no, state=state, stage="archive", profile=PROFILE)  # type: ignore[arg-type]
            if state != "running"
            else None
        ),
    )


def warning(level: str, late: timedelta, open: bool = True) -> RaisedWarning:
    return RaisedWarning(
        monitor="hv.plan_reply",
        code="plan_reply",
        level=level,  # type: ignore[arg-type]
        due_at=T0,
        raised_at=T0 + late,
        open=open,
    )


def outbox_row(no: str, state: str, send_after: datetime) -> OutboxRow:
    return OutboxRow(
        application_no=no, unit="henan", kind="warning", monitor="m", level="red",
        phone=f"138{uuid.uuid4().int % 10**8:08d}", role="customer_manager", message="…",
        state=state, send_after=send_after, send_before=send_after + timedelta(hours=12),
        window="warning", created_at=T0,
    )  # fmt: skip


def scrape(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_the_api_serves_the_read_models_counts(any_engine: Engine, tmp_path: Path) -> None:
    writer = ProjectionActivities(any_engine)
    writer.project_application(projection("M-1", warnings=[]))
    writer.project_application(
        projection("M-2", level="yellow", warnings=[warning("yellow", timedelta())])
    )
    writer.project_application(projection("M-3", level="yellow", warnings=[]))
    writer.project_application(projection("M-4", state="cancelled", warnings=[]))
    now = datetime.now(UTC)
    with Session(any_engine) as s:
        s.add(outbox_row("M-2", "pending", now - timedelta(minutes=10)))  # due for ten minutes
        s.add(outbox_row("M-2", "pending", now + timedelta(hours=3)))  # waits for its window
        s.add(outbox_row("M-2", "failed", now - timedelta(days=1)))
        s.commit()
    app = create_app()
    attach(app, Settings(data_dir=tmp_path), any_engine, temporal=None)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    got = scrape(r.text)
    assert got[("grid_applications", (("state", "running"), ("warning_level", "")))] == 1
    assert got[("grid_applications", (("state", "running"), ("warning_level", "yellow")))] == 2
    assert got[("grid_applications", (("state", "cancelled"), ("warning_level", "")))] == 1
    assert got[("grid_outbox_messages", (("state", "pending"),))] == 2
    assert got[("grid_outbox_messages", (("state", "failed"),))] == 1
    assert got[("grid_outbox_messages", (("state", "sent"),))] == 0
    assert got[("grid_outbox_due_messages", ())] == 1
    assert got[("grid_outbox_oldest_due_seconds", ())] >= 600
    # No personal data in any label or value.
    assert "测试客户" not in r.text and "13800000000" not in r.text


def latency() -> tuple[float, float]:
    count = REGISTRY.get_sample_value("grid_warning_latency_seconds_count") or 0.0
    total = REGISTRY.get_sample_value("grid_warning_latency_seconds_sum") or 0.0
    return count, total


def test_warning_latency_is_observed_once_per_warning_written(db_engine: Engine) -> None:
    acts = ProjectionActivities(db_engine)
    count, total = latency()
    acts.project_application(projection("L-1", warnings=[warning("blue", timedelta(seconds=90))]))
    assert latency() == (count + 1, total + 90)
    # Its closing (written again, open=False) is not a second raise.
    acts.project_application(
        projection("L-1", warnings=[warning("blue", timedelta(seconds=90), open=False)])
    )
    assert latency() == (count + 1, total + 90)


ATTEMPTS: dict[str, int] = {}


@activity.defn(name="metrics_flaky")
def flaky(key: str) -> str:
    ATTEMPTS[key] = ATTEMPTS.get(key, 0) + 1
    if ATTEMPTS[key] < 3:
        raise RuntimeError("not yet")
    return "done"


@workflow.defn(sandboxed=False)
class CallsFlaky:
    @workflow.run
    async def run(self, key: str) -> str:
        return await workflow.execute_activity(
            flaky,
            key,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=10)),
        )


def failures(kind: str) -> float:
    value = REGISTRY.get_sample_value("grid_activity_failures_total", {"activity_type": kind})
    return value or 0.0


async def test_failed_activity_attempts_are_counted_by_type(ts_env: WorkflowEnvironment) -> None:
    import concurrent.futures

    before = failures("metrics_flaky")
    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        async with Worker(
            ts_env.client,
            task_queue=queue,
            workflows=[CallsFlaky],
            activities=[flaky],
            activity_executor=pool,
            interceptors=[ActivityMetrics()],
        ):
            result = await ts_env.client.execute_workflow(
                CallsFlaky.run, queue, id=f"wf-{queue}", task_queue=queue
            )
    assert result == "done"
    assert failures("metrics_flaky") == before + 2


async def test_the_project_worker_counts_failures(
    ts_env: WorkflowEnvironment, db_engine: Engine
) -> None:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        built = build_worker(ts_env.client, db_engine, "unused", pool)
    assert any(isinstance(i, ActivityMetrics) for i in built.config()["interceptors"])


def test_the_worker_serves_its_metrics() -> None:
    port = free_port()
    assert serve_worker_metrics(Settings(worker_metrics_port=port)) == port
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert "grid_warning_latency_seconds_bucket" in body
    assert "grid_activity_failures_total" in body
    # A port already taken turns them off instead of stopping the worker.
    assert serve_worker_metrics(Settings(worker_metrics_port=port)) is None
    assert serve_worker_metrics(Settings(worker_metrics_port=0)) is None


async def test_the_sdk_metrics_are_served_on_their_port(dev_env: WorkflowEnvironment) -> None:
    port = free_port()
    target = dev_env.client.service_client.config.target_host
    settings = Settings(temporal_address=target, temporal_metrics_port=port)
    runtime = sdk_runtime(settings)
    assert runtime is not None
    client: Client = await connect(settings, runtime=runtime)
    await client.count_workflows()
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert "temporal_request" in body
    assert sdk_runtime(Settings(temporal_metrics_port=0)) is None


def test_json_logs_carry_the_application_number_as_a_field() -> None:
    record = logging.LogRecord(
        "activities", logging.INFO, __file__, 1, "warning %s", ("A-1",), None
    )
    record.application_no = "A-1"
    line = json.loads(JsonFormatter().format(record))
    assert line["application_no"] == "A-1"
    assert line["message"] == "warning A-1"
    assert line["level"] == "INFO" and line["logger"] == "activities"
    assert datetime.fromisoformat(line["ts"]).tzinfo is not None


def test_log_format_json_selects_the_formatter() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("INFO", "json")
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        configure_logging("INFO", "text")
        assert not isinstance(root.handlers[0].formatter, JsonFormatter)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    with pytest.raises(ValueError, match="log_format"):
        Settings(log_format="xml")


def test_a_queued_warning_is_logged_with_its_number_and_no_phone(
    db_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    seed_demo_org(db_engine)
    acts = NotificationActivities(db_engine, calendar_for=lambda _r: get_calendar("CN"))
    with caplog.at_level(logging.INFO, logger="activities.notifications"):
        acts.enqueue_warning(sample_notice(datetime(2026, 10, 12, 10, 0, tzinfo=UTC), no="J-7"))
    records = [r for r in caplog.records if getattr(r, "application_no", None) == "J-7"]
    assert records
    text = "\n".join(JsonFormatter().format(r) for r in records)
    with Session(db_engine) as s:
        phones = [row.phone for row in s.exec(select(OutboxRow)).all()]
    assert phones and not any(p in text for p in phones)
