"""Coordination notices (协同通知) acted on: the notices the workflow issued, answered or
withdrew written to the read model, and the people told through the SMS outbox.

`write_notices` is idempotent: rows are keyed on the notice's id and never move back
(readmodel.coordination), outbox rows on (application, monitor, level, phone). Issued notices
go to each department's coordinators (nearest unit up the tree, domain.notifications.recipients),
a rejection to the application's customer manager, in the unit's warning windows. Instants come
from the workflow (the write's `at`), never the wall clock.
"""

from __future__ import annotations

import logging

from temporalio import activity

from activities.messaging import QueuesMessages, StaffMessage, queue_for_staff
from contracts.coordination import NoticeRecord, NoticeWrite
from domain.notifications.messages import render_notice_issued, render_notice_rejected
from domain.notifications.recipients import select_recipients
from readmodel.coordination import write_notices

log = logging.getLogger(__name__)


class CoordinationActivities(QueuesMessages):
    @activity.defn
    def write_notices(self, write: NoticeWrite) -> int:
        """Write the notices and queue their messages; returns how many rows changed."""
        changed = write_notices(self._engine, write.notices)
        if write.tell == "issued":
            told = [n for n in write.notices if n.state == "open"]
            role = "coordinator"
        elif write.tell == "rejected":
            told = [n for n in write.notices if n.state == "rejected"]
            role = "customer_manager"
        else:
            told = []
            role = ""
        queued = sum(self._tell(write, n, role) for n in told)
        log.info(
            "notices of %s: %d row(s) written, %d message(s) queued",
            write.application_no,
            changed,
            queued,
            extra={"application_no": write.application_no},
        )
        return changed

    def _tell(self, write: NoticeWrite, notice: NoticeRecord, role: str) -> int:
        start, end = self._windows(write.unit, "warning", write.at, join_open=True)
        staff = self._outbox.candidate_staff(write.unit, write.customer_manager)
        departments = [notice.department] if role == "coordinator" else []
        res = select_recipients(staff, write.unit, [role], write.customer_manager, departments)
        if role == "coordinator":
            text = render_notice_issued(notice, self._policy_for(write.unit).settings.timezone)
            level = "issued"
        else:
            text = render_notice_rejected(notice)
            level = "rejected"
        monitor = f"coordination.{notice.kind}.{notice.department}.{notice.round}"
        message = StaffMessage(
            application_no=write.application_no,
            unit=write.unit,
            kind="notice",
            monitor=monitor,
            code=notice.kind,
            level=level,
            text=text,
            send_after=start,
            send_before=end,
            window="warning",
        )
        return queue_for_staff(self._outbox, res, message)
