"""Outage scheduling's side effects: place (or join) an application's outage in the outage
plans, tell the affected customers through the outbox, correct what they were told when
dispatch moves it, and settle the outage when the application no longer needs it.

Idempotent: an application is carried by at most one live outage, and a retried call finds it
(readmodel.outages.live_outage_of); the outbox's unique key (the outage, the message kind, the
phone) queues each customer's notice once per outage, whatever the retries. The slot is the
domain's (domain.outages); every instant comes from the workflow (the job's `at`).
Customer phones and names are personal data: nothing here logs them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, col, select
from temporalio import activity

from activities.messaging import QueuesMessages
from calendars import Calendar
from contracts.organisation import normalize_mobile
from contracts.outages import (
    LIVE_LINE_FLAG,
    LIVE_STATES,
    OutageFlag,
    OutageJob,
    OutageRecord,
    OutageRules,
    OutageSettle,
    OutageTier,
    Slot,
)
from domain.outage_notices import (
    CORRECTION_LEVEL,
    CORRECTION_MONITOR,
    NOTICE_LEVEL,
    NOTICE_MONITOR,
    render_correction,
    render_notice,
)
from domain.outages import (
    LIVE_LINE_FLAG_SOURCE,
    Planned,
    earliest_slot,
    outage_rules,
    outage_tier,
    plan_feeder,
    shared_outage,
)
from readmodel.grid import GridCustomerRow
from readmodel.outages import (
    OutageApplicationRow,
    OutagePlanRow,
    applications_of,
    booked_per_day,
    feeder_customers,
    live_outage_of,
    outages_held,
    planned_on_feeder,
)
from readmodel.outbox import OutboxBase, OutboxRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Decided:
    """What the pack and the plan decide before the slot: the tier and why, the rules, the
    feeder, and whether the plan allows live-line work."""

    tier: OutageTier
    why: str
    rules: OutageRules
    feeder: str | None
    live_line_possible: bool


def record_of(
    session: Session, row: OutagePlanRow, application_no: str, explanation: list[str] | None = None
) -> OutageRecord:
    """The outage as the application's status shows it."""
    applications = applications_of(session, row.id)
    return OutageRecord(
        id=row.id,
        tier=row.tier,  # type: ignore[arg-type]
        feeder=row.feeder,
        start_at=row.start_at,
        end_at=row.end_at,
        state=row.state,  # type: ignore[arg-type]
        joined=bool(applications) and applications[0] != application_no,
        applications=applications,
        affected_customers=len(row.affected_customers),
        notice_sent_at=row.notice_sent_at,
        explanation=explanation if explanation is not None else list(row.explanation),
        flags=[OutageFlag.model_validate(f) for f in row.flags],
        decided_at=row.decided_at,
        reason=row.reason,
    )


class OutageActivities(QueuesMessages):
    # -- scheduling ----------------------------------------------------------------------------

    @activity.defn
    def schedule_outage(self, job: OutageJob) -> OutageRecord:
        """The application's live outage: found (a retry), joined (一停多用) or newly planned;
        its customers told, and those told of a rejected one corrected."""
        explanation: list[str] | None = None
        with Session(self._engine) as session:
            # Dispatch's rejection first: the rejected outage is no longer the live one.
            self._close_rejected(session, job)
            session.flush()
            row = live_outage_of(session, job.application_no)
            if row is None:
                row, explanation = self._place(session, job)
            session.commit()
            outage_id = row.id
        told = self._tell(outage_id, job.at)
        if job.rejected is not None:
            self._correct(job.rejected, outage_id, job.at)
        with Session(self._engine) as session:
            fresh = session.get(OutagePlanRow, outage_id)
            assert fresh is not None
            record = record_of(session, fresh, job.application_no, explanation)
        log.info(
            "outage %s (%s) for %s: %s, %d notice(s) queued",
            record.id,
            record.tier,
            job.application_no,
            "joined" if record.joined else "planned",
            told,
            extra={"application_no": job.application_no},
        )
        return record

    def _close_rejected(self, session: Session, job: OutageJob) -> None:
        """Dispatch's rejection in the plans too (the API writes it first; a retry finds it)."""
        if job.rejected is None:
            return
        old = session.get(OutagePlanRow, job.rejected)
        if old is not None and old.state in LIVE_STATES:
            old.state, old.reason, old.decided_at = "rejected", job.rejected_reason, job.at
            old.updated_at = job.at
            session.add(old)

    def _decide(self, job: OutageJob) -> _Decided:
        rules = outage_rules(self._policy_for(job.unit))
        plan = job.plan.plan
        assert plan is not None
        tier, why = outage_tier(job.plan, plan.access_voltage, rules)
        return _Decided(tier, why, rules, plan_feeder(job.plan), plan.live_line)

    def _place(self, session: Session, job: OutageJob) -> tuple[OutagePlanRow, list[str]]:
        d = self._decide(job)
        cal = Calendar.from_snapshot(job.calendar)
        zone = cal.zone
        avoid_days: frozenset[date] = frozenset()
        if job.rejected is not None:
            old = session.get(OutagePlanRow, job.rejected)
            if old is not None and old.day is not None:
                avoid_days = frozenset({old.day})
        today = job.at.astimezone(zone).date()
        booked = booked_per_day(session, job.unit, today)
        slot = earliest_slot(d.tier, job.at, job.possible_at, cal, d.rules, booked, avoid_days)
        explanation = [f"tier {d.tier}: {d.why}", *slot.explanation]
        if d.tier != "live_line" and d.feeder is not None:
            planned = [
                Planned(id=p.id, day=p.day, tier=p.tier)
                for p in planned_on_feeder(session, d.feeder, today)
                if p.day is not None
            ]
            avoid = frozenset({job.rejected}) if job.rejected else frozenset()
            possible_on = job.possible_at.astimezone(zone).date()
            share = shared_outage(planned, slot.day, possible_on, job.at, cal, d.rules, avoid)
            if share is not None:
                joined = session.get(OutagePlanRow, share.id)
                assert joined is not None
                self._join(session, joined, job)
                explanation.append(
                    f"joined outage {share.id} on {share.day} (一停多用), within "
                    f"{d.rules.sharing_workdays} working days of {slot.day} "
                    f"({d.rules.sources['sharing']})"
                )
                return joined, explanation
        return self._new(session, job, d, slot, explanation), explanation

    def _join(self, session: Session, row: OutagePlanRow, job: OutageJob) -> None:
        session.add(
            OutageApplicationRow(
                outage_id=row.id, application_no=job.application_no, joined_at=job.at
            )
        )
        if row.state == "approved":
            # Dispatch approved other works: the outage goes back to it with the new one.
            row.state = "submitted"
        row.updated_at = job.at
        session.add(row)

    def _new(
        self, session: Session, job: OutageJob, d: _Decided, slot: Slot, explanation: list[str]
    ) -> OutagePlanRow:
        n = outages_held(session, job.application_no) + 1
        live = d.tier == "live_line"
        customers = [] if live or d.feeder is None else feeder_customers(session, d.feeder)
        flags = []
        if d.live_line_possible and not live:
            flags.append(OutageFlag(code=LIVE_LINE_FLAG, source=LIVE_LINE_FLAG_SOURCE, at=job.at))
        row = OutagePlanRow(
            id=f"OUT-{job.application_no}-{n}",
            unit=job.unit,
            tier=d.tier,
            feeder=d.feeder,
            start_at=slot.start_at,
            end_at=slot.end_at,
            day=slot.day,
            state="submitted",
            affected_customers=[c.id for c in customers],
            explanation=explanation,
            flags=[f.model_dump(mode="json") for f in flags],
            replaces=job.rejected,
            created_at=job.at,
            updated_at=job.at,
        )
        session.add(row)
        session.flush()
        session.add(
            OutageApplicationRow(
                outage_id=row.id, application_no=job.application_no, joined_at=job.at
            )
        )
        return row

    # -- telling customers ---------------------------------------------------------------------

    def _phones(self, session: Session, customer_ids: list[str]) -> list[str]:
        if not customer_ids:
            return []
        rows = session.exec(
            select(GridCustomerRow.phone).where(col(GridCustomerRow.id).in_(customer_ids))
        ).all()
        phones: set[str] = set()
        for phone in rows:
            try:
                if phone:
                    phones.add(normalize_mobile(phone))
            except ValueError:
                continue
        return sorted(phones)

    def _queue(
        self,
        row: OutagePlanRow,
        monitor: str,
        level: str,
        text: str,
        phones: list[str],
        at: datetime,
    ) -> int:
        start, end = self._windows(row.unit, "progress", at, join_open=True)
        rows = [
            OutboxBase(
                application_no=row.id,
                unit=row.unit,
                kind="progress",
                monitor=monitor,
                code=monitor.replace(".", "_"),
                level=level,
                phone=phone,
                role="customer",
                roles=["customer"],
                message=text,
                send_after=start,
                send_before=end,
                window="progress",
                created_at=datetime.now(UTC),
            )
            for phone in phones
        ]
        return self._outbox.enqueue(rows) if rows else 0

    def _tell(self, outage_id: str, at: datetime) -> int:
        """Queue the outage's notice to each affected customer once; record when."""
        with Session(self._engine) as session:
            row = session.get(OutagePlanRow, outage_id)
            if row is None or row.tier == "live_line" or row.start_at is None:
                return 0
            assert row.end_at is not None
            tz = self._policy_for(row.unit).settings.timezone
            text = render_notice(row.feeder, row.start_at, row.end_at, tz)
            phones = self._phones(session, list(row.affected_customers))
            queued = self._queue(row, NOTICE_MONITOR, NOTICE_LEVEL, text, phones, at)
            if row.notice_sent_at is None:
                row.notice_sent_at = at
                session.add(row)
                session.commit()
            return queued

    def _told(self, session: Session, outage_id: str) -> list[str]:
        return sorted(
            session.exec(
                select(OutboxRow.phone).where(
                    OutboxRow.application_no == outage_id, OutboxRow.monitor == NOTICE_MONITOR
                )
            ).all()
        )

    def _correct(self, old_id: str, new_id: str | None, at: datetime) -> int:
        """Correct what the customers told of `old_id` were told: moved to `new_id`, or off."""
        with Session(self._engine) as session:
            old = session.get(OutagePlanRow, old_id)
            new = session.get(OutagePlanRow, new_id) if new_id is not None else None
            if old is None or old.start_at is None or old.end_at is None:
                return 0
            phones = self._told(session, old_id)
            tz = self._policy_for(old.unit).settings.timezone
            moved = None
            if new is not None and new.start_at is not None and new.end_at is not None:
                moved = (new.start_at, new.end_at)
            text = render_correction(old.feeder, (old.start_at, old.end_at), moved, tz)
            return self._queue(old, CORRECTION_MONITOR, CORRECTION_LEVEL, text, phones, at)

    # -- settling ------------------------------------------------------------------------------

    @activity.defn
    def settle_outage(self, req: OutageSettle) -> OutageRecord | None:
        """The application is energized or cancelled: done once every application it carries
        is energized; cancelled (and its customers corrected) when none is left to energize."""
        with Session(self._engine) as session:
            link = session.get(OutageApplicationRow, (req.outage_id, req.application_no))
            row = session.get(OutagePlanRow, req.outage_id)
            if link is None or row is None:
                return None
            if link.settled is None:
                link.settled = req.outcome
                session.add(link)
                session.flush()
            links = session.exec(
                select(OutageApplicationRow).where(OutageApplicationRow.outage_id == row.id)
            ).all()
            if row.state in LIVE_STATES and all(x.settled is not None for x in links):
                energized = any(x.settled == "energized" for x in links)
                row.state = "done" if energized else "cancelled"
                row.updated_at = req.at
                session.add(row)
            session.commit()
            session.refresh(row)
            record = record_of(session, row, req.application_no)
        if record.state == "cancelled" and record.notice_sent_at is not None:
            self._correct(record.id, None, req.at)
        return record
