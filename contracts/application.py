"""Payloads of the ConnectionApplication workflow: its start input, update inputs and status.

These travel through Temporal histories (pydantic data converter), so changing a field is a
change to recorded data: add fields with defaults, never rename or remove one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from calendars.snapshot import CalendarSnapshot
from contracts.coordination import NoticeRecord
from contracts.monitor import MonitorView
from contracts.outages import OutageRecord
from contracts.permits import PermitResult, PermitsStatus
from contracts.plans import PlanRecord
from contracts.text import Line, Note, ShortLine, Text
from policies.codes import EVENT_SUFFIXES, NOTICE_CODES, STAGE_CODES
from policies.engine import Event as EngineEvent

# The profile is part of the contract: re-exported for the layers above.
from policies.profile import ApplicationProfile as ApplicationProfile
from policies.profile import Instant, require_aware
from policies.schema import ResolvedPolicy

# Application numbers become workflow IDs and URL segments: keep them to a safe alphabet.
APPLICATION_NO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$"


class Customer(BaseModel):
    """Personal data: kept in the workflow input and the database only, never in search
    attributes or INFO logs."""

    model_config = ConfigDict(extra="forbid")

    name: Line
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9-]{5,20}$")
    address: Note | None = None


class ApplicationInput(BaseModel):
    """Start input of ConnectionApplication."""

    application_no: str = Field(pattern=APPLICATION_NO_PATTERN)
    profile: ApplicationProfile
    customer: Customer
    customer_manager: ShortLine | None = None
    #: The customer may refuse progress messages (办电进程主动推送); warnings to staff still go.
    notify_customer: bool = True


EVENT_PATTERN = r"^[a-z][a-z0-9_]*\.(started|completed)$"
#: Staff clocks drift: an instant given a few minutes ahead of the receiver's clock is taken as
#: "now", not refused as the future (an event's `at`, an application's acceptance).
CLOCK_SKEW = timedelta(minutes=5)


def _known_events(schema: dict[str, Any]) -> None:
    """The events some pack understands, listed in the schema (the workflow checks them
    against the application's own pack)."""
    from policies.loader import list_units, load_policy

    codes = set(STAGE_CODES) | set(NOTICE_CODES)
    for unit in list_units():
        policy = load_policy(unit)
        codes |= set(policy.codes) | set(policy.event_aliases)
    events = sorted(f"{c}.{s}" for c in codes for s in EVENT_SUFFIXES)
    schema["properties"]["event"]["enum"] = events


Origin = Literal["imported", "live"]
#: Where an event or hold request came from: `imported` only when the go-live import adds a
#: re-imported record's later events (docs/migration.md); the API sets `live` on every request
#: it is sent, and the schema does not show it.
RequestOrigin = SkipJsonSchema[Origin]


class RecordEventRequest(BaseModel):
    """A stage event reported by staff: `<stage>.started` or `<stage>.completed`
    (stage or coordination-notice code from docs/glossary.md)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra=lambda schema, _cls: _known_events(schema)
    )

    event: str = Field(pattern=EVENT_PATTERN, examples=["site_survey.completed"])
    at: Instant | None = Field(default=None, description="When it happened; defaults to now")
    by: ShortLine | None = Field(default=None, description="Staff code, not a name")
    note: Note | None = None
    actor: ShortLine | None = Field(
        default=None,
        description="The signed-in staff code, set by the API from the token (a value sent "
        "is replaced)",
    )
    origin: RequestOrigin = "live"

    _aware_at = field_validator("at")(require_aware)


class HoldRequest(BaseModel):
    """Pause or resume the clock for a customer-caused hold."""

    model_config = ConfigDict(extra="forbid")

    reason: Text
    at: Instant | None = None
    by: ShortLine | None = None
    actor: ShortLine | None = Field(
        default=None,
        description="The signed-in staff code, set by the API from the token (a value sent "
        "is replaced)",
    )
    origin: RequestOrigin = "live"

    _aware_at = field_validator("at")(require_aware)


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text
    by: ShortLine | None = None
    actor: ShortLine | None = Field(
        default=None,
        description="The signed-in staff code, set by the API from the token (a value sent "
        "is replaced)",
    )


class TimelineEntry(BaseModel):
    at: datetime
    event: str
    by: str | None = None
    note: str | None = None
    #: The signed-in member who recorded it (None before sign-in existed, and for the
    #: workflow's own entries).
    actor: str | None = None
    #: Where it came from: the past given at import (docs/migration.md), or this system.
    origin: Origin = "live"


ApplicationState = Literal["running", "completed", "cancelled"]
WarningLevel = Literal["blue", "yellow", "orange", "red"]
LEVEL_ORDER: dict[str, int] = {"blue": 1, "yellow": 2, "orange": 3, "red": 4}


class RaisedWarning(BaseModel):
    """A threshold that passed: recorded by the workflow the instant its timer fired."""

    #: The monitor rule's id (e.g. hv.plan_reply); `code` is the stage or notice it times.
    monitor: str
    code: str = ""
    level: WarningLevel
    due_at: datetime
    raised_at: datetime
    roles: list[str] = Field(default_factory=list)
    result: str | None = None
    source: str | None = None
    #: False once the monitor it belongs to is met (the stage finished late but finished).
    open: bool = True
    #: Its instant had already passed when the application was imported: recorded as raised
    #: then, never sent as a message of its own (the import's digest names the application).
    imported: bool = False


class TooShortFlag(BaseModel):
    """A stage finished faster than the policy's too-short bound (超短时限): check on site."""

    monitor: str
    rule: str
    started_at: datetime | None
    completed_at: datetime
    #: The bound's instant: completing at or before it (or before, if exclusive) is flagged.
    until: datetime | None
    result: str
    source: str


class RecordedEvent(BaseModel):
    """A stage event or hold as the workflow recorded it."""

    event: str
    at: datetime
    by: str | None = None
    note: str | None = None
    reason: str | None = None
    recorded_at: datetime
    actor: str | None = None

    def to_engine(self) -> EngineEvent:
        return EngineEvent(event=self.event, at=self.at, reason=self.reason)


class CalendarSegment(BaseModel):
    """A calendar version and the instant from which it counts (DESIGN.md §3)."""

    effective_from: datetime
    snapshot: CalendarSnapshot


class CarriedState(BaseModel):
    """Everything a run hands to the next one at continue-as-new."""

    events: list[RecordedEvent]
    timeline: list[TimelineEntry]
    warnings: list[RaisedWarning]
    too_short: list[TooShortFlag]
    calendars: list[CalendarSegment]
    state: ApplicationState
    cancel_reason: str | None = None
    projected_timeline: int = 0
    runs: int = 1
    #: How many of `warnings` have been handed to the notification activities.
    notified_warnings: int = 0
    #: Customer progress messages already handed over (accepted, plan_replied, energized).
    progress_sent: list[str] = Field(default_factory=list)
    #: The application's current supply plan (its version, state and reservation).
    plan: PlanRecord | None = None
    #: The outage its energization is scheduled in (停送电计划), once scheduled.
    outage: OutageRecord | None = None
    #: Its coordination notices (协同通知), every round.
    notices: list[NoticeRecord] = Field(default_factory=list)
    #: The latest result of each permit kind (行政审批).
    permits: list[PermitResult] = Field(default_factory=list)


class ImportedHistory(BaseModel):
    """The past of an application taken over from another system (docs/migration.md): its
    stage events and holds, checked by the rules live events are, in the order they happened."""

    #: Stage events and holds (pause.started, pause.completed), oldest first.
    events: list[RecordedEvent] = Field(default_factory=list)
    #: The instant the past was judged at: the warnings due until then are imported ones.
    imported_at: datetime
    #: The other system's order number.
    source_ref: str | None = None


class ApplicationStart(BaseModel):
    """Start input: the application and the policy and calendar it is judged by, as data."""

    application: ApplicationInput
    policy: ResolvedPolicy
    calendar: CalendarSnapshot
    carried: CarriedState | None = None
    #: The past given at start (an imported application); None for one created live.
    history: ImportedHistory | None = None
    #: Deprecated, never set on a new start: histories recorded while tests set it here still
    #: carry it, and their runs continue as new where it says. Tests now give the length in
    #: the workflow's memo (see workflows.connection_application); it is not written back.
    continue_as_new_after: int | None = Field(default=None, exclude=True)

    @field_serializer("policy")
    def _compact_policy(self, policy: ResolvedPolicy) -> dict[str, object]:
        # Omitting unset optional fields halves the recorded size; they default to None.
        return policy.model_dump(mode="json", exclude_none=True)


class PolicyRef(BaseModel):
    unit: str
    version: str


class CalendarRef(BaseModel):
    region: str
    version: str
    #: Every calendar version this application's deadlines were computed on, oldest first.
    versions: list[str] = Field(default_factory=list)


class ApplicationStatus(BaseModel):
    """Answer of the `status` query and of every update."""

    application_no: str
    state: ApplicationState
    stage: str
    profile: ApplicationProfile
    customer_manager: str | None = None
    timeline: list[TimelineEntry] = Field(default_factory=list)
    cancel_reason: str | None = None
    policy: PolicyRef | None = None
    calendar: CalendarRef | None = None
    as_of: datetime | None = None
    monitors: list[MonitorView] = Field(default_factory=list)
    warnings: list[RaisedWarning] = Field(default_factory=list)
    warning_level: WarningLevel | None = None
    next_due_at: datetime | None = None
    provisional: bool = False
    paused: bool = False
    too_short: list[TooShortFlag] = Field(default_factory=list)
    skipped_stages: list[str] = Field(default_factory=list)
    events: list[RecordedEvent] = Field(default_factory=list)
    #: What the workflow waits on before it can carry on (`database`: its writes to the read
    #: model and the outbox failed for longer than their limit and are retried on a timer).
    waiting_on: str | None = None
    #: The current supply plan (供电方案, or the access plan of distributed generation): its
    #: version, state, the plan with each decision's clause, and the capacity it holds.
    plan: PlanRecord | None = None
    #: The outage its energization is scheduled in (停送电计划): tier, feeder, window, state,
    #: the applications it carries, how the slot was chosen, and its flags.
    outage: OutageRecord | None = None
    #: Its coordination notices (协同通知), every round: who was asked, who answered what.
    notices: list[NoticeRecord] = Field(default_factory=list)
    #: The outside line's administrative approvals (行政审批): whether the plan requires them,
    #: each permit kind's state, and whether the application waits for them.
    permits: PermitsStatus | None = None


class MonitorBrief(BaseModel):
    id: str
    code: str
    state: str
    level: str | None = None
    next_due_at: datetime | None = None


class UpdateResult(BaseModel):
    """What an update answers: compact, because every answer is stored in the history and
    decoded by its caller (the full status is one query away)."""

    application_no: str
    state: ApplicationState
    stage: str
    paused: bool
    warning_level: WarningLevel | None = None
    next_due_at: datetime | None = None
    provisional: bool = False
    recorded: RecordedEvent | None = None
    #: The too-short flags this change raised (超短时限: a completion faster than the table
    #: allows); every flag so far is in the status.
    too_short: list[TooShortFlag] = Field(default_factory=list)
    #: The monitors whose state, level or next due instant moved since the run's previous
    #: answer (every monitor in a run's first answer); all of them are in the status.
    changed_monitors: list[MonitorBrief] = Field(default_factory=list)


class ApplicationOutcome(BaseModel):
    """The workflow's result, shown in Temporal UI: how the application ended. The full final
    status is in the read model (`final_status`), where the API answers from once it closed."""

    application_no: str
    state: ApplicationState
    stage: str
    closed_at: datetime
    cancel_reason: str | None = None
    events: int
    warnings: int
    too_short: int
    runs: int


class WarningNotice(BaseModel):
    """A raised warning handed to the notification activities: who must hear of it
    is resolved there, from the roles and the organisation in the database."""

    application_no: str
    unit: str
    business_type: str
    voltage: str | None = None
    customer_manager: str | None = None
    #: Monitor rule id (e.g. hv.plan_reply) and the stage or notice code it times.
    monitor: str
    code: str
    level: WarningLevel
    due_at: datetime
    raised_at: datetime
    roles: list[str] = Field(default_factory=list)
    #: Coordination notices (协同通知) go to the coordinating departments' chain too.
    coordination: bool = False
    #: The departments a coordination warning chases: those whose notices are still open
    #: (empty: the departments of the monitor's code, domain.notifications.recipients).
    departments: list[str] = Field(default_factory=list)
    result: str | None = None
    source: str | None = None


ProgressKind = Literal["accepted", "plan_replied", "energized"]


class ProgressNotice(BaseModel):
    """A customer progress message (办电进程主动推送) handed to the notification activities."""

    application_no: str
    unit: str
    kind: ProgressKind
    at: datetime
    #: The customer's phone; personal data, never logged at INFO.
    phone: str | None = None


class ProjectionInput(BaseModel):
    """What the projection activity writes to the read model in one transaction.

    `timeline` holds the entries from position `timeline_offset` on, and `warnings` the warnings
    whose state may have changed; the activity inserts what it lacks and updates the rest, so a
    retry or a replay writes nothing twice.
    """

    application_no: str
    profile: ApplicationProfile
    customer: Customer
    customer_manager: str | None
    state: ApplicationState
    stage: str
    updated_at: datetime
    warning_level: WarningLevel | None = None
    next_due_at: datetime | None = None
    too_short: bool = False
    provisional: bool = False
    timeline_offset: int = 0
    timeline: list[TimelineEntry] = Field(default_factory=list)
    warnings: list[RaisedWarning] = Field(default_factory=list)
    #: Set once, when the application closes.
    final_status: ApplicationStatus | None = None


class ChangeInput(BaseModel):
    """Everything one change of an application writes: its read model and its outbox messages,
    in one local activity (each part idempotent, so a retry of the whole repeats nothing)."""

    application_no: str
    projection: ProjectionInput | None = None
    warnings: list[WarningNotice] = Field(default_factory=list)
    progress: list[ProgressNotice] = Field(default_factory=list)


def workflow_id(application_no: str) -> str:
    return f"app-{application_no}"
