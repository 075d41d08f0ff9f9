"""GET /metrics: Prometheus's text format. The read model's counts are computed at each scrape
(readmodel/stats.py); the API process's own (memory, CPU, open files) come with them. The
worker serves its metrics and the Temporal SDK's on ports of its own (core/metrics.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from api.auth import PUBLIC
from api.deps import EngineDep
from readmodel.stats import applications_by_state_and_level, outbox_stats

#: Public, as Prometheus scrapes without a staff token: counts only, no personal data.
#: Deployments keep it off the public network (docs/access.md).
router = APIRouter(tags=["operations"], dependencies=[PUBLIC])


class ReadModelCollector(Collector):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        apps = GaugeMetricFamily(
            "grid_applications",
            "Applications in the read model, by state and highest open warning level "
            '("" when none)',
            labels=["state", "warning_level"],
        )
        for (state, level), n in sorted(applications_by_state_and_level(self._engine).items()):
            apps.add_metric([state, level], n)
        yield apps
        stats = outbox_stats(self._engine)
        rows = GaugeMetricFamily(
            "grid_outbox_messages", "SMS outbox rows by state (failed: given up)", labels=["state"]
        )
        for state in sorted({"pending", "sent", "failed", *stats.by_state}):
            rows.add_metric([state], stats.by_state.get(state, 0))
        yield rows
        yield from _gauges(
            ("grid_outbox_due_messages", "Pending messages whose send window is open", stats.due),
            (
                "grid_outbox_oldest_due_seconds",
                "Age of the oldest due message's open window (0 when none is due)",
                stats.oldest_due_s,
            ),
            (
                "grid_outbox_undeliverable_roles",
                "Recipients' roles the policy named that nobody holds",
                stats.undeliverable,
            ),
        )


def _gauges(*specs: tuple[str, str, float]) -> Iterator[Metric]:
    for name, doc, value in specs:
        yield GaugeMetricFamily(name, doc, value=value)


def render(engine: Engine) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReadModelCollector(engine))
    return generate_latest(registry) + generate_latest(REGISTRY)


@router.get("/metrics", include_in_schema=False)
async def metrics(engine: EngineDep) -> Response:
    """For Prometheus: no personal data, no authentication (as /health)."""
    body = await asyncio.to_thread(render, engine)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
