"""The worker's Prometheus metrics: its own (warning latency, activity failures) on
WORKER_METRICS_PORT through prometheus-client, and the Temporal SDK's on TEMPORAL_METRICS_PORT
through the SDK's own exporter. The API serves the read model's at /metrics (api/routes/metrics.py).

Metric names start with `grid_`; the SDK's with `temporal_`. No label carries personal data.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Histogram, start_http_server
from temporalio import activity
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from core.config import Settings

log = logging.getLogger("metrics")

#: From the threshold's due instant to the instant the workflow raised its warning: the timer's
#: lateness (a worker down, a backlog of tasks), seen where the warning is written.
WARNING_LATENCY = Histogram(
    "grid_warning_latency_seconds",
    "Seconds from a warning's due instant to the instant it was raised",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 4 * 3600, float("inf")),
)
ACTIVITY_FAILURES = Counter(
    "grid_activity_failures_total",
    "Failed activity attempts (local ones included), by activity type",
    ["activity_type"],
)


def observe_warning_latency(due_at: datetime, raised_at: datetime) -> None:
    WARNING_LATENCY.observe(max((raised_at - due_at).total_seconds(), 0.0))


class _CountFailures(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await self.next.execute_activity(input)
        except BaseException:
            ACTIVITY_FAILURES.labels(activity_type=activity.info().activity_type).inc()
            raise


class ActivityMetrics(Interceptor):
    """Counts every failed attempt of every activity, by type (the retry policy then decides
    whether it runs again)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _CountFailures(next)


def serve_worker_metrics(settings: Settings) -> int | None:
    """Serve the process's prometheus-client registry; the port, or None when turned off or
    taken (metrics are not worth a worker that cannot start)."""
    port = settings.worker_metrics_port
    if not port:
        return None
    try:
        start_http_server(port, addr=settings.metrics_host)
    except OSError as exc:
        log.warning("worker metrics not served: port %d: %s", port, exc.strerror)
        return None
    return port


def sdk_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime exporting the SDK's metrics for Prometheus, or None (the default
    runtime, without them) when turned off or the port is taken."""
    port = settings.temporal_metrics_port
    if not port:
        return None
    try:
        return Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=f"{settings.metrics_host}:{port}")
            )
        )
    except Exception as exc:
        log.warning("Temporal SDK metrics not served: port %d: %s", port, exc)
        return None
