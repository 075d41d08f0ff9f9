"""Supply plans inside the ConnectionApplication workflow: what the plan activity is asked and
answers, the plan as the status shows it, and the staff requests on it.

These travel through Temporal histories (the activity's input and result, the updates' inputs
and answers, the carried state): add fields with defaults, never rename or remove one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contracts.grid import Reservation
from contracts.permits import PermitKind
from contracts.text import Note, ShortLine
from policies.plans.plan import Plan
from policies.plans.resources import Location
from policies.profile import (
    ApplicationProfile,
    Instant,
    SupportingWorksType,
    Voltage,
    require_aware,
)
from policies.schema import MonitorRule, TooShortRule

#: `supply`: a supply plan (供电方案); `access`: distributed generation's access plan (接入方案).
PlanKind = Literal["supply", "access"]
#: `proposed`: issued, its capacity reserved, waiting for the reply to be recorded;
#: `joint_review`: the engine could not decide (专业联动), or the last capacity went to someone
#: else; `approved`: the reply is recorded (plan_reply.completed); `not_planned`: the
#: application lacks what a plan needs (its location, or the measured outside line).
PlanState = Literal["proposed", "joint_review", "approved", "not_planned"]


class PlanInputs(BaseModel):
    """What staff give the engine besides the application's profile (a revision's new
    inputs); each wins over the profile's value of the same name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    location: Location | None = None
    outside_line_m: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    #: The permits the outside line's route needs (掘路, 占道, 绿化): the plan lists them when
    #: it needs approval, and the application waits for each.
    permits: tuple[PermitKind, ...] | None = None


class JointReviewDecision(BaseModel):
    """What the reviewers (专业联动) decided where the engine could not. Every field left out
    keeps the engine's proposal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reviewers: list[ShortLine] = Field(
        min_length=1, max_length=20, description="Staff codes of the reviewers, not names"
    )
    access_voltage: Voltage | None = None
    #: The connection point's id (one of the grid's points near the customer).
    connection_point: ShortLine | None = None
    #: A works type, or `none`: no supporting works at all (the customer builds from the point).
    supporting_works: SupportingWorksType | Literal["none"] | None = None
    admin_approval_required: bool | None = None
    #: The permits the route they chose needs (掘路, 占道, 绿化); kept for later revisions.
    permits: list[PermitKind] | None = Field(default=None, max_length=3)
    note: Note | None = None


class PlanJob(BaseModel):
    """The plan activity's input: make plan `version` of an application."""

    application_no: str
    version: int = Field(ge=1)
    kind: PlanKind
    #: What made it: `accept.started`, `site_survey.completed`, `revise` or `joint_review`.
    trigger: str
    at: datetime
    profile: ApplicationProfile
    inputs: PlanInputs = PlanInputs()
    review: JointReviewDecision | None = None
    #: The version of the pack the application is judged by, and the rules its start input
    #: carries: the record brings the rules the plan's values need beyond these.
    policy_version: str = ""
    monitor_ids: list[str] = Field(default_factory=list)
    too_short_ids: list[str] = Field(default_factory=list)


class PlanRecord(BaseModel):
    """One version of the application's plan, as the activity made it and the status shows it."""

    version: int
    kind: PlanKind
    trigger: str
    state: PlanState
    made_at: datetime
    plan: Plan | None = None
    #: Why no plan was made (state `not_planned`), naming the missing field.
    refused: str | None = None
    #: The capacity this version holds (state `proposed`, `approved`): first come, first served.
    reservations: list[Reservation] = Field(default_factory=list)
    #: Resources tried and found full since the snapshot was read (taken by other applications).
    taken: list[str] = Field(default_factory=list)
    inputs: PlanInputs = PlanInputs()
    review: JointReviewDecision | None = None
    approved_at: datetime | None = None
    #: The deadline rules the plan's values select beyond those the application started with
    #: (the grid-works limit of its works type, the approval of its outside line): the start
    #: input carries only the rules its profile selected (policies.engine.select_rules).
    added_monitors: list[MonitorRule] = Field(default_factory=list)
    added_too_short: list[TooShortRule] = Field(default_factory=list)


class ApprovePlanRequest(BaseModel):
    """Record the plan's reply (plan_reply.completed) on the plan as it stands."""

    model_config = ConfigDict(extra="forbid")

    at: Instant | None = Field(default=None, description="When the reply was given; now if absent")
    by: ShortLine | None = Field(default=None, description="Staff code, not a name")
    note: Note | None = None

    _aware_at = field_validator("at")(require_aware)


def _new_input_schema(schema: dict[str, Any]) -> None:
    """What the model's check says, for clients and fuzzers: one of the two, not null."""
    given = [
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
        for name in ("location", "outside_line_m", "permits")
    ]
    schema.setdefault("allOf", []).append({"anyOf": given})


class RevisePlanRequest(BaseModel):
    """New inputs for the plan: a new version is made, and the old one's capacity released."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_new_input_schema)

    location: Location | None = None
    outside_line_m: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    permits: list[PermitKind] | None = Field(
        default=None,
        max_length=3,
        description="The permits the outside line's route needs; the application waits for each",
    )
    by: ShortLine | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _something_new(self) -> Self:
        if self.location is None and self.outside_line_m is None and self.permits is None:
            raise ValueError("location: give the new location, outside_line_m or permits")
        return self

    def inputs(self, before: PlanInputs) -> PlanInputs:
        return PlanInputs(
            location=self.location if self.location is not None else before.location,
            outside_line_m=(
                self.outside_line_m if self.outside_line_m is not None else before.outside_line_m
            ),
            permits=tuple(dict.fromkeys(self.permits))
            if self.permits is not None
            else before.permits,
        )


class JointReviewRequest(JointReviewDecision):
    """The reviewers' decision on a plan in joint review; a new version is made with it."""

    by: ShortLine | None = None
