"""The messages an application owes: raised warnings to staff, progress to the customer.

Which of them were already handed over is the workflow's to know (its outbox cursors); these
functions take that as an argument and answer what is still owed.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from contracts.application import ProgressKind, ProgressNotice, WarningNotice
from domain.ledger import ApplicationLedger
from policies.engine import Evaluation


def warning_notices(book: ApplicationLedger, ev: Evaluation, since: int) -> list[WarningNotice]:
    """The warnings raised from position `since` on, as notices for the notification
    activities."""
    coordination = {m.id: m.coordination for m in ev.monitors}
    app = book.application
    p = app.profile
    return [
        WarningNotice(
            application_no=app.application_no,
            unit=p.unit,
            business_type=p.business_type,
            voltage=p.voltage,
            customer_manager=app.customer_manager,
            monitor=w.monitor,
            code=w.code,
            level=w.level,
            due_at=w.due_at,
            raised_at=w.raised_at,
            roles=w.roles,
            coordination=coordination.get(w.monitor, False),
            result=w.result,
            source=w.source,
        )
        for w in book.warnings[since:]
    ]


def progress_due(book: ApplicationLedger, sent: Collection[str]) -> list[ProgressNotice]:
    """Customer progress messages (办电进程主动推送) owed and not in `sent`: none when the
    customer opted out or left no phone."""
    app = book.application
    if not app.notify_customer or not app.customer.phone:
        return []
    moments: list[tuple[ProgressKind, datetime | None]] = [
        ("accepted", app.profile.accepted_at),
        ("plan_replied", _first(book, "plan_reply.completed")),
        ("energized", _first(book, "energize.completed")),
    ]
    return [
        ProgressNotice(
            application_no=app.application_no,
            unit=app.profile.unit,
            kind=kind,
            at=at,
            phone=app.customer.phone,
        )
        for kind, at in moments
        if at is not None and kind not in sent
    ]


def _first(book: ApplicationLedger, name: str) -> datetime | None:
    return next((e.at for e in book.events if e.event == name), None)
