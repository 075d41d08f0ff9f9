"""What activities that queue SMS hold: the database, each unit's send windows (its pack's
hours on its calendar) and the outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from calendars import Calendar, get_calendar
from core.config import Settings
from domain.notifications.recipients import Missing, Resolution
from domain.notifications.windows import SendWindows, policy_for_unit
from policies.schema import ResolvedPolicy
from readmodel.outbox import OutboxBase, UndeliverableRow
from readmodel.outbox_queue import OutboxQueue


@dataclass(frozen=True)
class StaffMessage:
    """One message to the staff a resolution found: what each of their outbox rows shares."""

    application_no: str
    unit: str
    kind: str
    monitor: str
    code: str
    level: str
    text: str
    send_after: datetime
    send_before: datetime
    window: str


def undeliverable(
    application_no: str, unit: str, monitor: str, level: str, missing: Missing
) -> UndeliverableRow:
    return UndeliverableRow(
        application_no=application_no,
        unit=unit,
        monitor=monitor,
        level=level,
        role=missing.role,
        department=missing.department,
        reason=missing.reason,
        created_at=datetime.now(UTC),
    )


def queue_for_staff(outbox: OutboxQueue, res: Resolution, m: StaffMessage) -> int:
    """Queue the message to every recipient found and record every role nobody holds; returns
    the rows inserted (0 on a repeat: the outbox's key makes it idempotent)."""
    now = datetime.now(UTC)
    rows = [
        OutboxBase(
            application_no=m.application_no,
            unit=m.unit,
            kind=m.kind,
            monitor=m.monitor,
            code=m.code,
            level=m.level,
            phone=r.phone,
            role=r.roles[0],
            roles=r.roles,
            staff_code=r.staff_code,
            message=m.text,
            send_after=m.send_after,
            send_before=m.send_before,
            window=m.window,
            created_at=now,
        )
        for r in res.recipients
    ]
    missing = [undeliverable(m.application_no, m.unit, m.monitor, m.level, x) for x in res.missing]
    return outbox.enqueue(rows, missing)


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
