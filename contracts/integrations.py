"""What the outside systems send (the webhooks' bodies) and what the workflows behind them take
and answer: reserve projects (储备项目), proactive registrations (主动办电) and permits (行政审批).

These travel through Temporal histories (pydantic data converter): add fields with defaults,
never rename or remove one. Names, contacts and addresses are personal data: kept in workflow
inputs and the read model, never in search attributes, INFO logs or error messages.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from calendars.snapshot import CalendarSnapshot
from contracts.application import Customer
from contracts.permits import PermitKind, PermitResultCode
from contracts.text import Line, Note, ShortLine
from policies.plans.plan import Plan
from policies.plans.resources import Location
from policies.profile import Instant, Voltage, require_aware
from policies.schema import Duration

#: Project and registration numbers become workflow IDs and URL segments.
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{2,55}$"
UNIT_PATTERN = r"^[a-z][a-z0-9-]*(/[a-z][a-z0-9-]*)*$"

DeliveryKind = Literal["project", "permit", "registration"]
#: received: stored, not yet handed to Temporal; accepted: its workflow was started; duplicate:
#: the workflow it asks for exists already (a second delivery of the same thing); failed:
#: Temporal could not take it (replayable); rejected: the body is invalid (422, kept as is).
DeliveryStatus = Literal["received", "accepted", "duplicate", "failed", "rejected"]
__all__ = ["PermitKind", "PermitResultCode"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProjectApproved(_Body):
    """`POST /webhooks/approval/projects`: an investment project the government's approval
    system (工程建设项目审批管理系统) approved."""

    id: str = Field(pattern=EXTERNAL_ID_PATTERN, description="The approval system's project id")
    name: Line = Field(min_length=1, max_length=200)
    unit: str = Field(pattern=UNIT_PATTERN, max_length=128)
    location: Location
    expected_load_kva: float = Field(gt=0, le=10_000_000)
    voltage: Voltage
    expected_date: date


class PermitDecided(_Body):
    """`POST /webhooks/approval/permits`: an administrative approval of an application's
    outside line (掘路 road_excavation, 占道 road_occupation, 绿化 greenery)."""

    application_no: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")
    kind: PermitKind
    result: PermitResultCode
    decided_at: Instant

    _aware = field_validator("decided_at")(require_aware)


class BusinessRegistered(_Body):
    """`POST /webhooks/registrations`: a small or micro business the market regulator
    registered (工商信息推送)."""

    registration_no: str = Field(pattern=EXTERNAL_ID_PATTERN)
    name: Line = Field(min_length=1, max_length=200)
    unit: str = Field(pattern=UNIT_PATTERN, max_length=128)
    address: Note = Field(min_length=1)
    contact: str = Field(pattern=r"^\+?[0-9-]{5,20}$", description="A phone number")


class DeliveryAnswer(BaseModel):
    """The 202 answer to an accepted delivery, kept and given again to a redelivery."""

    delivery: int
    kind: DeliveryKind
    href: str


class PermitInput(BaseModel):
    """The PermitDecision workflow's input: one delivered permit result."""

    delivery: int
    permit: PermitDecided


class PermitOutcome(BaseModel):
    """What a permit result did to its application (also kept on the delivery)."""

    #: recorded: the application got `event`; superseded: a later result of the same kind was
    #: already recorded; refused: the application refused the event (`reason`, e.g. the stage
    #: does not apply: the outside line is exempt); missing: no running application.
    outcome: Literal["recorded", "superseded", "refused", "missing", "unchanged"]
    event: str | None = None
    reason: str | None = None
    returned_to: str | None = None


# -- reserve projects ------------------------------------------------------------------------

ReserveState = Literal["reserved", "converted", "cancelled"]


class ReserveProjectStart(BaseModel):
    """Start input of ReserveProject: the project, the calendar its reminders count on and the
    pack's follow-up interval (with its clause), all as data."""

    project: ProjectApproved
    delivery: int | None = None
    received_at: datetime
    calendar: CalendarSnapshot
    follow_up_every: Duration
    follow_up_source: str


class FollowUpRequest(BaseModel):
    """A customer manager's follow-up of a reserve project (跟踪)."""

    model_config = ConfigDict(extra="forbid")

    at: Instant | None = None
    by: ShortLine | None = None
    note: Note | None = None

    _aware = field_validator("at")(require_aware)


class FollowUp(BaseModel):
    at: datetime
    by: str | None = None
    note: str | None = None


class ConvertRequest(BaseModel):
    """一键转正式: the formal application the project becomes; the rest (unit, voltage,
    capacity, location) is the project's."""

    model_config = ConfigDict(extra="forbid")

    accepted_at: Instant
    customer: Customer
    customer_manager: ShortLine | None = None
    business_type: Literal["hv", "lv_non_residential", "lv_small_micro"] | None = Field(
        default=None, description="Defaults to hv above low voltage, lv_non_residential below"
    )
    important: bool = False
    dual_power: bool = False

    _aware = field_validator("accepted_at")(require_aware)


class ConvertResult(BaseModel):
    project_id: str
    application_no: str
    href: str


class ReserveProjectStatus(BaseModel):
    project_id: str
    unit: str
    state: ReserveState
    voltage: str
    expected_load_kva: float
    expected_date: date
    received_at: datetime
    plan: Plan | None = None
    #: Why there is no preliminary plan (the engine's reason), when there is none.
    plan_note: str | None = None
    follow_ups: list[FollowUp] = Field(default_factory=list)
    reminders: list[datetime] = Field(default_factory=list)
    next_reminder_at: datetime | None = None
    follow_up_source: str = ""
    application_no: str | None = None


# -- proactive registrations -------------------------------------------------------------------

RegistrationState = Literal["proposed", "confirmed", "dismissed"]


class RegistrationStart(BaseModel):
    registration: BusinessRegistered
    delivery: int | None = None
    received_at: datetime
    calendar: CalendarSnapshot
    confirm_within: Duration
    stages: list[str]
    source: str


class ConfirmRequest(BaseModel):
    """The customer manager confirms a proposed 主动办电 application."""

    model_config = ConfigDict(extra="forbid")

    customer_manager: ShortLine
    accepted_at: Instant | None = None
    capacity_kw: float | None = Field(default=None, gt=0, le=160)

    _aware = field_validator("accepted_at")(require_aware)


class RegistrationStatus(BaseModel):
    registration_no: str
    unit: str
    state: RegistrationState
    received_at: datetime
    stages: list[str]
    source: str
    reminders: list[datetime] = Field(default_factory=list)
    next_reminder_at: datetime | None = None
    application_no: str | None = None
    customer_manager: str | None = None


class StartApplication(BaseModel):
    """What an activity needs to start the formal application a project or registration
    becomes (the start input is built there: it reads the pack)."""

    application_no: str
    profile_unit: str
    business_type: str
    voltage: str
    capacity_kva: float | None = None
    capacity_kw: float | None = None
    small_micro: bool = False
    important: bool = False
    dual_power: bool = False
    channel: Literal["proactive", "reserve"]
    accepted_at: datetime
    location: Location | None = None
    customer: Customer
    customer_manager: str | None = None
    #: The workflow the application comes from (reserve-<id>, registration-<no>).
    origin: str


def reserve_workflow_id(project_id: str) -> str:
    return f"reserve-{project_id}"


def registration_workflow_id(registration_no: str) -> str:
    return f"registration-{registration_no}"


def permit_workflow_id(delivery: int) -> str:
    return f"permit-delivery-{delivery}"


def reserve_application_no(project_id: str) -> str:
    """The formal application a reserve project becomes: one per project, so a retried
    conversion finds the application it started rather than a second one."""
    return f"rsv-{project_id}"


def registration_application_no(registration_no: str) -> str:
    return f"reg-{registration_no}"
