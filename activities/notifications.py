"""Warnings and progress messages to people: the activities that join the domain's windows,
texts and recipients to the outbox in the database, and send the outbox through a gateway.

- `enqueue_warning` resolves a raised warning's roles to staff, renders its text and queues
  one outbox row per phone, due in the policy's next send window; roles nobody holds are
  recorded as undeliverable.
- `enqueue_progress` does the same for a customer progress message (办电进程主动推送).
- `dispatch_due` (called by the SmsDispatcher workflow) sends the rows whose window is open and
  answers when the dispatcher must wake next, from the business calendar.

Exactly once: see `readmodel.outbox_queue` (unique key, claim, own commit per send); the
gateway receives a stable message id, so a resend after a crash in between is dropped there.
Clock: every instant comes from the caller (the warning's raised_at, the dispatcher's
workflow.now()), never from the wall clock, so time-skipped workflows and replays agree.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from temporalio import activity

from activities.gateways import Gateway, SendResult, SmsMessage, gateway_from_settings
from activities.messaging import StaffMessage, queue_for_staff, undeliverable
from calendars import Calendar, get_calendar
from contracts.application import ProgressNotice, WarningNotice
from contracts.notifications import DispatchRequest, DispatchResult
from contracts.organisation import mask_phone, normalize_mobile
from core.config import Settings
from domain.notifications.messages import render_progress, render_warning
from domain.notifications.recipients import Missing, notice_departments, select_recipients
from domain.notifications.windows import SendWindows, policy_for_unit, window_kind
from policies.schema import ResolvedPolicy
from readmodel.outbox import OutboxBase, OutboxRow
from readmodel.outbox_queue import DueBatch, OutboxQueue

log = logging.getLogger(__name__)

#: How long a dispatch holds a row it is sending: the dispatcher's heartbeat timeout, after
#: which Temporal retries a dispatch that went silent.
CLAIM_LEASE = timedelta(minutes=1)


class NotificationActivities:
    def __init__(
        self,
        engine: Engine,
        settings: Settings | None = None,
        gateway: Gateway | None = None,
        calendar_for: Callable[[str], Calendar] = get_calendar,
        policy_for: Callable[[str], ResolvedPolicy] = policy_for_unit,
    ) -> None:
        self._settings = settings or Settings()
        self._gateway: Gateway | None = gateway
        self._policy_for = policy_for
        self._windows = SendWindows(self._settings.sms_progress_hours, calendar_for, policy_for)
        self._outbox = OutboxQueue(engine)

    @property
    def gateway(self) -> Gateway:
        # Built on first use: a worker that never dispatches needs no gateway configured.
        if self._gateway is None:
            self._gateway = gateway_from_settings(self._settings)
        return self._gateway

    # -- enqueue -------------------------------------------------------------------------------

    @activity.defn
    def enqueue_warning(self, notice: WarningNotice) -> int:
        """Queue the warning's messages; returns how many rows this call inserted (0 on a
        repeat: the outbox's unique key makes the call idempotent)."""
        kind = window_kind(notice.code)
        start, end = self._windows(notice.unit, kind, notice.raised_at, join_open=False)
        text = render_warning(notice, self._policy_for(notice.unit))
        staff = self._outbox.candidate_staff(notice.unit, notice.customer_manager)
        res = select_recipients(
            staff, notice.unit, notice.roles, notice.customer_manager, notice_departments(notice)
        )
        message = StaffMessage(
            application_no=notice.application_no,
            unit=notice.unit,
            kind="warning",
            monitor=notice.monitor,
            code=notice.code,
            level=notice.level,
            text=text,
            send_after=start,
            send_before=end,
            window=kind,
        )
        inserted = queue_for_staff(self._outbox, res, message)
        log.info(
            "warning %s %s %s: %d message(s) queued for %s, %d role(s) undeliverable",
            notice.application_no,
            notice.monitor,
            notice.level,
            inserted,
            start.isoformat(),
            len(res.missing),
            extra={"application_no": notice.application_no},
        )
        return inserted

    @activity.defn
    def enqueue_progress(self, notice: ProgressNotice) -> int:
        """Queue a customer progress message; 0 if already queued or the phone is missing or
        not a mobile number (recorded as undeliverable, never raised: retrying cannot help)."""
        monitor = f"progress.{notice.kind}"
        reason = "the application has no customer phone"
        phone: str | None = None
        if notice.phone:
            try:
                phone = normalize_mobile(notice.phone)
            except ValueError as exc:
                reason = f"customer phone: {exc}"
        if phone is None:
            missing = Missing("customer", "", reason)
            gap = undeliverable(notice.application_no, notice.unit, monitor, "progress", missing)
            self._outbox.enqueue([], [gap])
            return 0
        start, end = self._windows(notice.unit, "progress", notice.at, join_open=True)
        tz = self._policy_for(notice.unit).settings.timezone
        row = OutboxBase(
            application_no=notice.application_no,
            unit=notice.unit,
            kind="progress",
            monitor=monitor,
            code=notice.kind,
            level="progress",
            phone=phone,
            role="customer",
            roles=["customer"],
            message=render_progress(notice, tz),
            send_after=start,
            send_before=end,
            window="progress",
            created_at=datetime.now(UTC),
        )
        return self._outbox.enqueue([row])

    # -- dispatch ------------------------------------------------------------------------------

    @activity.defn
    def dispatch_due(self, req: DispatchRequest) -> DispatchResult:
        """Send the pending rows whose window is open at `req.at` (one batch), move rows that
        missed their window to the next one, and say when to wake next."""
        at = req.at
        t0 = _time.monotonic()

        def now() -> datetime:
            # The dispatcher's instant plus the time this batch has taken: a slow gateway
            # must not carry a batch past the window's end.
            return at + timedelta(seconds=_time.monotonic() - t0)

        out = DispatchResult()
        with self._outbox.due_batch(at, req.batch_size, self._windows) as batch:
            out.rescheduled += batch.rescheduled
            for row in batch.rows:
                self._dispatch_row(batch, row, now, out)
            out.more = batch.full and batch.still_due()
            out.next_wake = self._windows.next_wake(at, batch.wake_instants(), req.poll_minutes)
        if out.sent or out.failed or out.retrying:
            log.info(
                "SMS dispatch at %s: %d sent, %d failed, %d to retry, %d rescheduled",
                at.isoformat(),
                out.sent,
                out.failed,
                out.retrying,
                out.rescheduled,
            )
        return out

    def _dispatch_row(
        self, batch: DueBatch, row: OutboxRow, now: Callable[[], datetime], out: DispatchResult
    ) -> None:
        t = now()
        if not batch.unchanged(row):
            return  # a concurrent dispatch has it (the row reloads after a commit)
        if row.attempts >= self._settings.sms_max_attempts:
            # Every earlier attempt died with its activity (a gateway that crashes the worker
            # on this row): give it up rather than block the queue.
            batch.give_up(row, f"given up after {row.attempts} attempts")
            out.failed += 1
            return
        if t >= row.send_before:
            batch.move(row, self._windows(row.unit, row.window, t, join_open=False))
            out.rescheduled += 1
            return
        if not batch.claim(row, t, CLAIM_LEASE):
            return
        # An exception from the gateway fails the activity and Temporal retries it: the row
        # is still pending with its attempt counted, and the resend carries the same id.
        result = self.gateway.send(SmsMessage(row.message_id, row.phone, row.message))
        self._record(batch, row, result, now(), out)
        if activity.in_activity():
            activity.heartbeat(row.id)

    def _record(
        self, batch: DueBatch, row: OutboxRow, result: SendResult, t: datetime, out: DispatchResult
    ) -> None:
        if result.outcome == "sent":
            batch.mark_sent(row, result.answer, t)
            out.sent += 1
        elif result.outcome == "rejected" or row.attempts >= self._settings.sms_max_attempts:
            batch.mark_failed(row, result.answer)
            out.failed += 1
            log.warning(
                "SMS %s given up after %d attempt(s)",
                row.message_id,
                row.attempts,
                extra={"application_no": row.application_no},
            )
        else:
            window = self._windows.after_failure(
                row.unit, row.window, row.attempts, t, row.send_before
            )
            batch.mark_retry(row, result.answer, window)
            out.retrying += 1
        log.debug("SMS %s to %s: %s", row.message_id, mask_phone(row.phone), row.state)


__all__ = ["CLAIM_LEASE", "NotificationActivities"]
