"""One local activity per change of an application: the read model first (a warning is on the
board at once), then the outbox messages the change owes.

One activity instead of one per part: each local activity costs the workflow a round trip
through the worker (an activation, its payloads, a marker in history), and a change that
raises warnings owes several messages at once (bench/workflow_bench.py --backdated). Every part
is idempotent (upserts; the outbox's unique key), so a retry after a partial failure repeats
nothing that already happened.
"""

from __future__ import annotations

from temporalio import activity

from activities.notifications import NotificationActivities
from activities.projection import ProjectionActivities
from contracts.application import ChangeInput


class ChangeActivities:
    def __init__(
        self, projection: ProjectionActivities, notifications: NotificationActivities
    ) -> None:
        self._projection = projection
        self._notifications = notifications

    @activity.defn
    def record_change(self, change: ChangeInput) -> None:
        if change.projection is not None:
            self._projection.project_application(change.projection)
        for warning in change.warnings:
            self._notifications.enqueue_warning(warning)
        for progress in change.progress:
            self._notifications.enqueue_progress(progress)
