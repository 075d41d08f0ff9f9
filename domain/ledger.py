"""The application's book: its events, warnings and deadlines, as pure, deterministic logic.

The workflow is the Temporal glue (handlers, timers, search attributes, activities); every
decision is made here, so it can be tested without Temporal and replays identically. Nothing in
this module reads a clock or a file: the caller passes `now` (workflow.now()).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from calendars.calendar import Calendar
from calendars.snapshot import CalendarSnapshot
from calendars.spliced import SplicedCalendar
from contracts.application import (
    LEVEL_ORDER,
    ApplicationOutcome,
    ApplicationStart,
    ApplicationState,
    ApplicationStatus,
    CalendarRef,
    CalendarSegment,
    CancelRequest,
    CarriedState,
    HoldRequest,
    MonitorBrief,
    PolicyRef,
    ProgressKind,
    ProgressNotice,
    RaisedWarning,
    RecordedEvent,
    RecordEventRequest,
    TimelineEntry,
    TooShortFlag,
    UpdateResult,
    WarningLevel,
    WarningNotice,
)
from policies.codes import PAUSE_EVENT, RESUME_EVENT
from policies.engine import (
    Evaluation,
    EvaluationMemo,
    RuleIndex,
    clocks_started,
    evaluate,
    known_event,
)

# Staff clocks drift; an event stamped a few minutes ahead is a typo-free "now", not the future.
CLOCK_SKEW = timedelta(minutes=5)
# Stages whose events may precede acceptance (the appointment comes first on online channels).
BEFORE_ACCEPTANCE = frozenset({"appointment_confirm"})
ARCHIVED = "archive.completed"
#: A monitor as an update answer shows it: state, level, next due instant.
MonitorLine = tuple[str, str | None, datetime | None]


class EventRefused(ValueError):
    """An update whose content is wrong (422); the message, "field: reason", is shown to staff.

    Temporal reports a validator's exception by its class name, which the API maps to a status.
    """


class EventConflict(EventRefused):
    """An update that clashes with the application's state or its events' order (409)."""


class ApplicationLedger:
    def __init__(self, start: ApplicationStart) -> None:
        self.application = start.application
        self.policy = start.policy
        self._profile = start.application.profile
        # The rules this application can use, selected once here: evaluations (and the
        # handlers that only read) take them from the index instead of selecting again.
        self._rules = RuleIndex(self.policy)
        self._rules.selection(self._profile)
        carried = start.carried
        if carried is None:
            accepted_at = start.application.profile.accepted_at
            carried = CarriedState(
                events=[],
                timeline=[TimelineEntry(at=accepted_at, event="accept.started")],
                warnings=[],
                too_short=[],
                calendars=[CalendarSegment(effective_from=accepted_at, snapshot=start.calendar)],
                state="running",
            )
        self.events: list[RecordedEvent] = list(carried.events)
        # The same events as the engine takes them, kept alongside rather than converted on
        # every evaluation.
        self._engine_events = [e.to_engine() for e in self.events]
        self.timeline: list[TimelineEntry] = list(carried.timeline)
        self.warnings: list[RaisedWarning] = list(carried.warnings)
        self.too_short: list[TooShortFlag] = list(carried.too_short)
        self.calendars: list[CalendarSegment] = list(carried.calendars)
        self.state: ApplicationState = carried.state
        self.cancel_reason = carried.cancel_reason
        self.projected_timeline = carried.projected_timeline
        self.runs = carried.runs
        self.notified_warnings = carried.notified_warnings
        self.progress_sent: list[str] = list(carried.progress_sent)
        self._calendar: SplicedCalendar | None = None
        # Bound to the calendar object: a calendar update builds a new one and starts it afresh.
        self._memo = EvaluationMemo()
        # Every update evaluates at the same instant several times (validator, handler, main
        # loop): keep the last answer. Keyed by what it depends on, so it is never stale.
        self._last: tuple[tuple[datetime, int, int], Evaluation] | None = None
        self._skipped: frozenset[str] | None = None
        self._checked: tuple[tuple[str, datetime], RecordedEvent] | None = None
        self._synced: Evaluation | None = None
        # Each monitor's line in the evaluation judged last, and the monitors whose line the
        # latest judgement moved (None: the run's first judgement, nothing to compare with).
        self._lines: dict[str, MonitorLine] | None = None
        self._moved: frozenset[str] | None = None
        # How many too-short flags there were before the latest judgement.
        self._flags_before = len(self.too_short)

    # -- calendar -----------------------------------------------------------------------------

    @property
    def calendar(self) -> SplicedCalendar:
        if self._calendar is None:
            self._calendar = SplicedCalendar(
                [(s.effective_from, Calendar.from_snapshot(s.snapshot)) for s in self.calendars]
            )
        return self._calendar

    def add_calendar(self, snapshot: CalendarSnapshot, now: datetime) -> bool:
        """Take a newly published or amended calendar from `now` on; False if nothing new."""
        latest = self.calendars[-1].snapshot
        if snapshot.region != latest.region or snapshot.version == latest.version:
            return False
        if self.state != "running":
            return False
        start = max(now, self.calendars[-1].effective_from + timedelta(microseconds=1))
        self.calendars.append(CalendarSegment(effective_from=start, snapshot=snapshot))
        self._calendar = None
        self.timeline.append(
            TimelineEntry(
                at=now,
                event="calendar.updated",
                note=f"{snapshot.region} {latest.version} -> {snapshot.version}",
            )
        )
        return True

    # -- evaluation ---------------------------------------------------------------------------

    def evaluate(self, as_of: datetime) -> Evaluation:
        key = (as_of, len(self.events), len(self.calendars))
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        ev = evaluate(
            self.policy,
            self.calendar,
            self._profile,
            self._engine_events,
            as_of,
            self._memo,
            self._rules,
        )
        self._last = (key, ev)
        if self._skipped is None:
            self._skipped = frozenset(ev.skipped_stages)
        return ev

    def skipped_stages(self, now: datetime) -> frozenset[str]:
        """Stages that do not apply: fixed by the application's attributes at acceptance."""
        if self._skipped is None:
            self.evaluate(now)
        assert self._skipped is not None
        return self._skipped

    @property
    def paused(self) -> bool:
        for e in reversed(self.events):
            if e.event in (PAUSE_EVENT, RESUME_EVENT):
                return e.event == PAUSE_EVENT
        return False

    # -- updates: check (validator) then apply (handler) ---------------------------------------

    def _require_running(self) -> None:
        if self.state != "running":
            raise EventConflict(f"application is {self.state}")

    def _when(self, at: datetime | None, now: datetime, field: str = "at") -> datetime:
        when = at or now
        if when > now + CLOCK_SKEW:
            raise EventRefused(f"{field}: {when.isoformat()} is in the future")
        return when

    def check_event(self, req: RecordEventRequest, now: datetime) -> RecordedEvent:
        """Validate a stage event (raises EventRefused/EventConflict) and return it as recorded.

        The validator and then the handler call this with the same request at the same instant;
        the second call returns the first's answer (validators do not run on replay, where the
        handler computes it afresh: the same pure computation)."""
        key = (req.model_dump_json(), now)
        if self._checked is not None and self._checked[0] == key:
            return self._checked[1]
        rec = self._check_event(req, now)
        self._checked = (key, rec)
        return rec

    def _check_event(self, req: RecordEventRequest, now: datetime) -> RecordedEvent:
        self._require_running()
        at = self._when(req.at, now)
        name = req.event
        if not known_event(name, self.policy):
            raise EventRefused(
                f"event: unknown event {name!r}: expected <stage>.started or <stage>.completed "
                "with a stage or coordination-notice code (docs/glossary.md)"
            )
        code, _, suffix = name.rpartition(".")
        code = self.policy.event_aliases.get(code, code)
        accepted_at = self.application.profile.accepted_at
        if at < accepted_at and code not in BEFORE_ACCEPTANCE:
            raise EventRefused(
                f"at: {at.isoformat()} is before the acceptance at {accepted_at.isoformat()}"
            )
        if code in self.skipped_stages(now):
            profile = self.application.profile
            what = ", ".join(x for x in (profile.business_type, profile.voltage) if x)
            raise EventRefused(f"event: stage {code!r} does not apply to this application ({what})")
        same = [e for e in self.events if e.event.rpartition(".")[0] == code]
        if same and at < same[-1].at:
            raise EventConflict(
                f"at: {at.isoformat()} is before the previous {same[-1].event} "
                f"at {same[-1].at.isoformat()}"
            )
        last = same[-1].event.rpartition(".")[2] if same else None
        if suffix == "started" and last == "started":
            raise EventConflict(f"event: {code} has already started")
        if suffix == "completed":
            if last == "completed":
                raise EventConflict(
                    f"event: {code} is already completed; record {code}.started to reopen it"
                )
            if last is None:
                self._check_clock_started(code, at)
        return RecordedEvent(event=name, at=at, by=req.by, note=req.note, recorded_at=now)

    def _check_clock_started(self, code: str, at: datetime) -> None:
        """A stage cannot complete before the events that start its clock (wrong order)."""
        timed = clocks_started(
            self.policy, self._profile, self._engine_events, code, at, self._rules
        )
        if timed and not any(started for _, started in timed):
            waits_for = sorted({e for monitor, _ in timed for e in self._start_events(monitor)})
            raise EventConflict(
                f"event: wrong order: {code} cannot complete before "
                f"{' and '.join(waits_for) or 'its start'}"
            )

    def _start_events(self, monitor: str) -> list[str]:
        for rule in self.policy.monitors:
            if rule.id == monitor and rule.start is not None:
                return rule.start.events
        return []

    def add_event(self, rec: RecordedEvent) -> None:
        self.events.append(rec)
        self._engine_events.append(rec.to_engine())
        self.timeline.append(TimelineEntry(at=rec.at, event=rec.event, by=rec.by, note=rec.note))
        if rec.event == ARCHIVED:
            self._close("completed")

    def check_hold(self, kind: str, req: HoldRequest, now: datetime) -> RecordedEvent:
        self._require_running()
        at = self._when(req.at, now)
        if kind == PAUSE_EVENT and self.paused:
            raise EventConflict("the clock is already paused")
        if kind == RESUME_EVENT and not self.paused:
            raise EventConflict("the clock is not paused")
        if self.events and at < self.events[-1].at:
            raise EventConflict(
                f"at: {at.isoformat()} is before the last recorded event "
                f"({self.events[-1].event} at {self.events[-1].at.isoformat()})"
            )
        if at < self.application.profile.accepted_at:
            raise EventRefused("at: before the acceptance")
        return RecordedEvent(
            event=kind, at=at, by=req.by, note=req.reason, reason=req.reason, recorded_at=now
        )

    def check_cancel(self) -> None:
        self._require_running()

    def cancel(self, req: CancelRequest, now: datetime) -> None:
        self.cancel_reason = req.reason
        self.timeline.append(TimelineEntry(at=now, event="cancelled", by=req.by, note=req.reason))
        self._close("cancelled")

    def _close(self, state: ApplicationState) -> None:
        self.state = state
        # A closed application owes nothing more: its warnings leave the open board.
        for w in self.warnings:
            w.open = False

    # -- the clock ----------------------------------------------------------------------------

    def sync(self, now: datetime) -> tuple[Evaluation, bool]:
        """Judge every monitor at `now`: raise the warnings whose instant has come, close those
        whose monitor is met, flag too-short completions. Returns the evaluation and whether
        anything changed."""
        ev = self.evaluate(now)
        changed = False
        # Judged already (the handler, then the main loop, at the same instant): the same
        # evaluation finds nothing new, and an answer given now moved nothing.
        if ev is self._synced:
            self._moved = frozenset()
            self._flags_before = len(self.too_short)
            return ev, changed
        self._synced = ev
        lines: dict[str, MonitorLine] = {
            m.id: (m.state, m.level, m.next_due_at) for m in ev.monitors
        }
        before = self._lines
        self._moved = (
            None if before is None else frozenset(k for k, v in lines.items() if before.get(k) != v)
        )
        self._lines = lines
        self._flags_before = len(self.too_short)
        if self.state != "running":
            return ev, changed
        raised = {(w.monitor, w.level) for w in self.warnings}
        for m in ev.monitors:
            if m.state == "met":
                for w in self.warnings:
                    if w.monitor == m.id and w.open:
                        w.open = False
                        changed = True
            for t in m.thresholds:
                if t.due_at is None or t.due_at > now or (m.id, t.level) in raised:
                    continue
                if not t.reached:
                    continue
                level: WarningLevel = t.level  # type: ignore[assignment]
                self.warnings.append(
                    RaisedWarning(
                        monitor=m.id,
                        code=m.code,
                        level=level,
                        due_at=t.due_at,
                        raised_at=now,
                        roles=list(t.recipients),
                        result=m.result,
                        source=m.source,
                        open=m.state != "met",
                    )
                )
                self.timeline.append(
                    TimelineEntry(at=now, event=f"warning.{level}", note=f"{m.code} ({m.id})")
                )
                changed = True
            short = m.too_short
            if (
                short is not None
                and short.flagged
                and not any(f.rule == short.id and f.monitor == m.id for f in self.too_short)
            ):
                assert m.stopped_at is not None
                self.too_short.append(
                    TooShortFlag(
                        monitor=m.id,
                        rule=short.id,
                        started_at=short.started_at,
                        completed_at=m.stopped_at,
                        until=short.until,
                        result=short.result,
                        source=short.source,
                    )
                )
                self.timeline.append(
                    TimelineEntry(at=now, event="too_short", note=f"{m.code} ({m.id})")
                )
                changed = True
        return ev, changed

    def warning_level(self) -> WarningLevel | None:
        open_levels: list[WarningLevel] = [w.level for w in self.warnings if w.open]
        if not open_levels:
            return None
        highest: WarningLevel = max(open_levels, key=LEVEL_ORDER.__getitem__)
        return highest

    def stage(self, ev: Evaluation) -> str:
        """The stage staff are working on: the latest-started running stage; else the last
        stage with an event. Coordination notices and whole-process limits are not stages."""
        if self.state == "completed":
            return "archive"
        running = [
            m
            for m in ev.monitors
            if m.state in ("running", "paused", "breached")
            and m.started_at is not None
            and m.code != "full_process"
            and not m.coordination
            and m.stopped_at is None
        ]
        if running:
            return max(running, key=lambda m: cast(datetime, m.started_at)).code
        for e in reversed(self.events):
            if e.event not in (PAUSE_EVENT, RESUME_EVENT):
                return e.event.rpartition(".")[0]
        return "accept"

    def status(self, ev: Evaluation) -> ApplicationStatus:
        latest = self.calendars[-1].snapshot
        return ApplicationStatus(
            application_no=self.application.application_no,
            state=self.state,
            stage=self.stage(ev),
            profile=self.application.profile,
            customer_manager=self.application.customer_manager,
            timeline=list(self.timeline),
            cancel_reason=self.cancel_reason,
            policy=PolicyRef(unit=self.policy.unit, version=self.policy.version),
            calendar=CalendarRef(
                region=latest.region,
                version=latest.version,
                versions=list(dict.fromkeys(s.snapshot.version for s in self.calendars)),
            ),
            as_of=ev.as_of,
            monitors=ev.monitors,
            warnings=list(self.warnings),
            warning_level=self.warning_level(),
            next_due_at=ev.next_due_at if self.state == "running" else None,
            provisional=ev.provisional,
            paused=self.paused,
            too_short=list(self.too_short),
            skipped_stages=ev.skipped_stages,
            events=list(self.events),
        )

    def brief(self, ev: Evaluation, recorded: RecordedEvent | None = None) -> UpdateResult:
        """The answer to an update, given right after the sync that judged it: only what this
        change moved, because the answer is in the history and decoded by the caller."""
        moved = self._moved
        return UpdateResult(
            application_no=self.application.application_no,
            state=self.state,
            stage=self.stage(ev),
            paused=self.paused,
            warning_level=self.warning_level(),
            next_due_at=ev.next_due_at if self.state == "running" else None,
            provisional=ev.provisional,
            recorded=recorded,
            too_short=self.too_short[self._flags_before :],
            changed_monitors=[
                MonitorBrief(
                    id=m.id, code=m.code, state=m.state, level=m.level, next_due_at=m.next_due_at
                )
                for m in ev.monitors
                if moved is None or m.id in moved
            ],
        )

    def outcome(self, ev: Evaluation) -> ApplicationOutcome:
        return ApplicationOutcome(
            application_no=self.application.application_no,
            state=self.state,
            stage=self.stage(ev),
            closed_at=ev.as_of,
            cancel_reason=self.cancel_reason,
            events=len(self.events),
            warnings=len(self.warnings),
            too_short=len(self.too_short),
            runs=self.runs,
        )

    def carried(self) -> CarriedState:
        return CarriedState(
            events=self.events,
            timeline=self.timeline,
            warnings=self.warnings,
            too_short=self.too_short,
            calendars=self.calendars,
            state=self.state,
            cancel_reason=self.cancel_reason,
            projected_timeline=self.projected_timeline,
            runs=self.runs + 1,
            notified_warnings=self.notified_warnings,
            progress_sent=self.progress_sent,
        )

    def progress_due(self) -> list[ProgressNotice]:
        """Customer progress messages (办电进程主动推送) owed and not yet handed over: none
        when the customer opted out or left no phone."""
        app = self.application
        if not app.notify_customer or not app.customer.phone:
            return []
        moments: list[tuple[ProgressKind, datetime | None]] = [
            ("accepted", app.profile.accepted_at),
            ("plan_replied", self._first("plan_reply.completed")),
            ("energized", self._first("energize.completed")),
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
            if at is not None and kind not in self.progress_sent
        ]

    def _first(self, name: str) -> datetime | None:
        return next((e.at for e in self.events if e.event == name), None)

    def warning_notices(self, ev: Evaluation) -> list[WarningNotice]:
        """Warnings raised and not yet handed to the notification activities."""
        coordination = {m.id: m.coordination for m in ev.monitors}
        p = self.application.profile
        return [
            WarningNotice(
                application_no=self.application.application_no,
                unit=p.unit,
                business_type=p.business_type,
                voltage=p.voltage,
                customer_manager=self.application.customer_manager,
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
            for w in self.warnings[self.notified_warnings :]
        ]
