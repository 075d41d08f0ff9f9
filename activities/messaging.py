"""What activities that queue SMS hold: the database, each unit's send windows (its pack's
hours on its calendar) and the outbox."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from calendars import Calendar, get_calendar
from core.config import Settings
from domain.notifications.windows import SendWindows, policy_for_unit
from policies.schema import ResolvedPolicy
from readmodel.outbox_queue import OutboxQueue


class QueuesMessages:
    def __init__(
        self,
        engine: Engine,
        settings: Settings | None = None,
        calendar_for: Callable[[str], Calendar] = get_calendar,
        policy_for: Callable[[str], ResolvedPolicy] = policy_for_unit,
    ) -> None:
        self._engine = engine
        settings = settings or Settings()
        self._policy_for = policy_for
        self._windows = SendWindows(settings.sms_progress_hours, calendar_for, policy_for)
        self._outbox = OutboxQueue(engine)
