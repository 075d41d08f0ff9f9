"""Administrative approvals of an application's outside line (行政审批: 掘路, 占道, 绿化): the
results the application keeps, the update that brings one, its answer, and what the status
shows of them.

These travel through Temporal histories (pydantic data converter): add fields with defaults,
never rename or remove one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from policies.profile import Instant, require_aware

#: policies.codes.PERMIT_KINDS as a type (tests/test_domain_permits.py checks they agree).
PermitKind = Literal["road_excavation", "road_occupation", "greenery"]
PermitResultCode = Literal["approved", "rejected"]
#: not_applicable: the outside line is exempt (or there is none), nothing is waited for;
#: not_started: the plan does not stand yet, or staff have not filed the approvals; waiting: the
#: stage is open; completed: every kind the plan lists is approved.
PermitStage = Literal["not_applicable", "not_started", "waiting", "completed"]


class PermitResult(BaseModel):
    """The latest result of one permit kind, as the application keeps it."""

    kind: PermitKind
    result: PermitResultCode
    decided_at: datetime


class RecordPermitRequest(BaseModel):
    """A permit result delivered by the approval system, for the application to record."""

    model_config = ConfigDict(extra="forbid")

    kind: PermitKind
    result: PermitResultCode
    decided_at: Instant
    #: The webhook delivery that brought it (for the note on the event).
    delivery: int | None = None

    _aware = field_validator("decided_at")(require_aware)

    def result_of(self) -> PermitResult:
        return PermitResult(kind=self.kind, result=self.result, decided_at=self.decided_at)


class PermitAnswer(BaseModel):
    """What a permit result did: `recorded` an event of the `admin_approval` stage, or left it
    `unchanged` (`reason`: the kinds still waited for, or why), or `superseded` (an older
    result than the kind's latest)."""

    outcome: Literal["recorded", "unchanged", "superseded"]
    event: str | None = None
    reason: str | None = None
    waiting_for: list[str] = []


class PermitState(BaseModel):
    kind: str
    #: pending: no result yet; a listed kind waits for it.
    state: Literal["pending", "approved", "rejected"]
    listed: bool
    decided_at: datetime | None = None


class PermitsStatus(BaseModel):
    """The application's outside-line approvals: what its plan requires and each one's state."""

    required: bool
    stage: PermitStage
    #: The clause the plan's approval decision cites.
    source: str | None = None
    #: Each kind the plan lists, then any other kind a result came for.
    permits: list[PermitState] = []
    #: The listed kinds not yet approved (every result counts when the plan names no kind).
    waiting_for: list[str] = []
