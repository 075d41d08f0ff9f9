"""Projection of workflow state into the database read model, through the read model's one
idempotent write (readmodel/projection.py); each warning written is observed for the warning
latency metric."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from contracts.application import ProjectionInput
from core.metrics import observe_warning_latency
from readmodel.projection import APPLICATION, TIMELINE, WARNING, ProjectionWriter, _application_row

__all__ = ["APPLICATION", "TIMELINE", "WARNING", "ProjectionActivities", "_application_row"]


class ProjectionActivities:
    def __init__(self, engine: Engine) -> None:
        self._writer = ProjectionWriter(engine)

    @activity.defn
    def project_application(self, data: ProjectionInput) -> None:
        self._writer.write(data)
        # A warning is sent open once, when raised (the workflow sends one again only when it
        # closes), so each is observed once.
        for w in data.warnings:
            if w.open:
                observe_warning_latency(w.due_at, w.raised_at)
