"""The application's ledger: its state (events, timeline, warnings, too-short flags, calendar
versions, whether it runs) and the evaluation of its deadlines, as pure, deterministic logic.

The workflow is the Temporal glue (handlers, timers, search attributes, activities); every
decision is made in the domain, so it can be tested without Temporal and replays identically.
Nothing here reads a clock or a file: the caller passes `now` (workflow.now()).

What the workflow's handlers that only read may call (`peek`, the properties, the `rules`
module's checks) writes nothing; what fills the caches (`evaluate`, `sync`) is for the run and
the update handlers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from calendars.calendar import Calendar
from calendars.snapshot import CalendarSnapshot
from calendars.spliced import SplicedCalendar
from contracts.application import (
    ApplicationStart,
    ApplicationState,
    CalendarSegment,
    CancelRequest,
    CarriedState,
    Origin,
    RaisedWarning,
    RecordedEvent,
    TimelineEntry,
    TooShortFlag,
    WarningLevel,
)
from contracts.plans import PlanRecord
from domain.judgement import Judgement, MonitorLine, judge, monitor_lines, moved
from domain.judgement import stage as judged_stage
from domain.judgement import warning_level as highest_open_level
from domain.plans import deadline_profile, policy_with_plan
from policies.codes import PAUSE_EVENT, RESUME_EVENT
from policies.engine import Evaluation, EvaluationMemo, RuleIndex, clocks_started, evaluate
from policies.schema import ResolvedPolicy

ARCHIVED = "archive.completed"


class ApplicationLedger:
    def __init__(self, start: ApplicationStart, now: datetime) -> None:
        """The application as `start` gives it (afresh, or carried over from the previous run),
        evaluated once at `now`: the run's first judgement reuses that evaluation."""
        self.application = start.application
        carried = start.carried
        #: The current supply plan; its decided values feed the deadlines (domain.plans).
        self.plan: PlanRecord | None = carried.plan if carried is not None else None
        self._start_policy = start.policy
        self.policy = policy_with_plan(start.policy, self.plan)
        self._profile = deadline_profile(start.application.profile, self.plan)
        # The rules this application can use, selected once here: evaluations (and the
        # handlers that only read) take them from the index instead of selecting again.
        self._rules = RuleIndex(self.policy)
        self._rules.selection(self._profile)
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
        self.runs = carried.runs
        self._calendar = self._splice()
        # Bound to the calendar object: a calendar update builds a new one and starts it afresh.
        self._memo = EvaluationMemo()
        # Every update evaluates at the same instant several times (handler, main loop): keep
        # the last answer. Keyed by what it depends on, so it is never stale.
        self._last: tuple[tuple[datetime, int, int], Evaluation] | None = None
        # The evaluation judged last; each monitor's line in it; the monitors whose line the
        # latest judgement moved (None: the run's first judgement, nothing to compare with);
        # how many too-short flags there were before it.
        self._synced: Evaluation | None = None
        self._lines: dict[str, MonitorLine] | None = None
        self._moved: frozenset[str] | None = None
        self._flags_before = len(self.too_short)
        #: Stages that do not apply: fixed by the application's attributes at acceptance.
        self.skipped: frozenset[str] = frozenset(self.evaluate(now).skipped_stages)

    # -- what the handlers that only read may ask ----------------------------------------------

    @property
    def start_policy(self) -> ResolvedPolicy:
        """The policy as the start input carries it, without the plan's rules."""
        return self._start_policy

    @property
    def paused(self) -> bool:
        for e in reversed(self.events):
            if e.event in (PAUSE_EVENT, RESUME_EVENT):
                return e.event == PAUSE_EVENT
        return False

    def last_event_of(self, code: str) -> RecordedEvent | None:
        """The latest `<code>.started` or `<code>.completed` recorded."""
        for e in reversed(self.events):
            if e.event.rpartition(".")[0] == code:
                return e
        return None

    def clocks_started(self, code: str, at: datetime) -> list[tuple[str, bool]]:
        """(monitor id, whether its clock has started by `at`) for each monitor of `code`."""
        return clocks_started(
            self.policy, self._profile, self._engine_events, code, at, self._rules
        )

    def start_events(self, monitor: str) -> list[str]:
        for rule in self.policy.monitors:
            if rule.id == monitor and rule.start is not None:
                return rule.start.events
        return []

    def peek(self, as_of: datetime) -> Evaluation:
        """The evaluation at `as_of`, remembering nothing: the last one when it is still
        current (a query right after a change), else computed afresh without the memo."""
        last = self._last
        if last is not None and last[0] == self._key(as_of):
            return last[1]
        return evaluate(
            self.policy,
            self._calendar,
            self._profile,
            self._engine_events,
            as_of,
            index=self._rules,
        )

    def warning_level(self) -> WarningLevel | None:
        return highest_open_level(self.warnings)

    def stage(self, ev: Evaluation) -> str:
        return judged_stage(self.state, self.events, ev)

    @property
    def moved(self) -> frozenset[str] | None:
        """The monitors the latest judgement moved (None: every one, the run's first)."""
        return self._moved

    @property
    def new_flags(self) -> list[TooShortFlag]:
        """The too-short flags the latest judgement raised."""
        return self.too_short[self._flags_before :]

    # -- the run and the update handlers ------------------------------------------------------

    def evaluate(self, as_of: datetime) -> Evaluation:
        """The evaluation at `as_of`, with the memo and the last answer kept for the next."""
        key = self._key(as_of)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        ev = evaluate(
            self.policy,
            self._calendar,
            self._profile,
            self._engine_events,
            as_of,
            self._memo,
            self._rules,
        )
        self._last = (key, ev)
        return ev

    def _key(self, as_of: datetime) -> tuple[datetime, int, int]:
        return (as_of, len(self.events), len(self.calendars))

    def _splice(self) -> SplicedCalendar:
        return SplicedCalendar(
            [(s.effective_from, Calendar.from_snapshot(s.snapshot)) for s in self.calendars]
        )

    def add_calendar(self, snapshot: CalendarSnapshot, now: datetime) -> bool:
        """Take a newly published or amended calendar from `now` on; False if nothing new."""
        latest = self.calendars[-1].snapshot
        if snapshot.region != latest.region or snapshot.version == latest.version:
            return False
        if self.state != "running":
            return False
        start = max(now, self.calendars[-1].effective_from + timedelta(microseconds=1))
        self.calendars.append(CalendarSegment(effective_from=start, snapshot=snapshot))
        self._calendar = self._splice()
        self.timeline.append(
            TimelineEntry(
                at=now,
                event="calendar.updated",
                note=f"{snapshot.region} {latest.version} -> {snapshot.version}",
            )
        )
        return True

    def add_event(self, rec: RecordedEvent, origin: Origin = "live") -> None:
        """Record an event the rules accepted (domain.rules.check_event / check_hold)."""
        self.events.append(rec)
        self._engine_events.append(rec.to_engine())
        self.timeline.append(
            TimelineEntry(
                at=rec.at,
                event=rec.event,
                by=rec.by,
                note=rec.note,
                actor=rec.actor,
                origin=origin,
            )
        )
        if rec.event == ARCHIVED:
            self._close("completed")

    def adopt_plan(self, record: PlanRecord, now: datetime) -> None:
        """Take `record` as the current plan: the deadlines from now on follow its decided
        values (domain.plans.deadline_profile), and the stages that apply with them."""
        self.plan = record
        profile = deadline_profile(self.application.profile, record)
        policy = policy_with_plan(self._start_policy, record)
        if profile != self._profile or policy != self.policy:
            if policy != self.policy:
                self.policy = policy
                self._rules = RuleIndex(policy)
            self._profile = profile
            self._rules.selection(profile)
            self._memo = EvaluationMemo()
            self._last = None
            self.skipped = frozenset(self.evaluate(now).skipped_stages)
        if record.state == "not_planned":
            # Nothing was decided: the status says what is missing; the timeline waits.
            return
        plan = record.plan
        what = f"v{record.version}"
        if plan is not None:
            points = ",".join(s.connection_point.id for s in plan.power_sources)
            what += f" {plan.access_voltage} {points or '-'}"
        self.timeline.append(TimelineEntry(at=now, event=f"plan.{record.state}", note=what))

    def cancel(self, req: CancelRequest, now: datetime) -> None:
        self.cancel_reason = req.reason
        self.timeline.append(
            TimelineEntry(at=now, event="cancelled", by=req.by, note=req.reason, actor=req.actor)
        )
        self._close("cancelled")

    def _close(self, state: ApplicationState) -> None:
        self.state = state
        # A closed application owes nothing more: its warnings leave the open board.
        for w in self.warnings:
            w.open = False

    def sync(self, now: datetime) -> tuple[Evaluation, bool]:
        """Judge every monitor at `now` (domain.judgement) and record what it finds. Returns
        the evaluation and whether anything changed."""
        ev = self.evaluate(now)
        # Judged already (the handler, then the main loop, at the same instant): the same
        # evaluation finds nothing new, and an answer given now moved nothing.
        if ev is self._synced:
            self._moved = frozenset()
            self._flags_before = len(self.too_short)
            return ev, False
        self._synced = ev
        lines = monitor_lines(ev)
        self._moved = None if self._lines is None else moved(self._lines, lines)
        self._lines = lines
        self._flags_before = len(self.too_short)
        if self.state != "running":
            return ev, False
        judgement = judge(ev, now, self.warnings, self.too_short)
        self._apply(judgement)
        return ev, judgement.changes

    def _apply(self, judgement: Judgement) -> None:
        if judgement.met:
            for w in self.warnings:
                if w.open and w.monitor in judgement.met:
                    w.open = False
        self.warnings.extend(judgement.raised)
        self.too_short.extend(judgement.flagged)
        self.timeline.extend(judgement.entries)

    def carried(self) -> CarriedState:
        """The state the next run starts from; the workflow adds its outbox cursors."""
        return CarriedState(
            events=self.events,
            timeline=self.timeline,
            warnings=self.warnings,
            too_short=self.too_short,
            calendars=self.calendars,
            state=self.state,
            cancel_reason=self.cancel_reason,
            runs=self.runs + 1,
            plan=self.plan,
        )
