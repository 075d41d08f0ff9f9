"""A supply plan (供电方案): what the engine answers, every decision with its clause.

The field names are the contract of `POST /api/plan-preview` and of the plan recorded by the
workflow: `access_voltage`, `power_sources`, `investment_boundary`, `metering_point`,
`supporting_works`, `admin_approval`, `outage_tier`, `needs_joint_review`, `reasons`,
`decisions`. The rest (`live_line`, `outside_line_m`, `validity_months`, each source's
`reserve`) is what the outage scheduling, the reservations and the plan document read.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policies.plans.rules import BoundaryCode


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class Decision(_Out):
    """One thing the engine decided, the value it chose and the clause it chose it by."""

    field: str
    value: Any
    source: str


class Reason(_Out):
    """Why a person must decide (专业联动 / joint review)."""

    code: str = Field(
        description="no_location, no_feasible_point, best_point_restricted, no_second_source, "
        "above_auto_limit, class_needs_person, voltage_mismatch, area_unknown"
    )
    detail: str
    source: str


class PointRef(_Out):
    id: str
    kind: str
    voltage: str
    feeder: str | None
    transformer: str | None
    substation: str | None
    lon: float
    lat: float
    restricted: bool = False


class Reservation(_Out):
    """The capacity issuing this plan holds, first come, first served."""

    on: Literal["feeder", "transformer"]
    id: str
    kva: float


class PowerSource(_Out):
    connection_point: PointRef
    #: Estimated route length: straight-line distance × the pack's route factor (m).
    route_m: float
    reserve: Reservation


class Boundary(_Out):
    code: BoundaryCode
    label: str
    source: str


class Metering(_Out):
    code: str
    label: str
    source: str


class Limit(_Out):
    amount: float
    unit: str


class SupportingWorks(_Out):
    type: str
    #: The construction limit, or null where the pack tables none for this type and voltage.
    limit: Limit | None
    source: str


class Approval(_Out):
    required: bool
    limit: Limit | None
    source: str
    mode: str = ""
    #: The permit kinds the route needs (policies.codes.PERMIT_KINDS), as staff gave them; empty
    #: when none is needed or the kinds are not named yet.
    permits: tuple[str, ...] = ()


class Plan(_Out):
    unit: str
    policy_version: str
    access_voltage: str
    capacity_kva: float
    power_sources: list[PowerSource]
    outside_line_m: float | None
    investment_boundary: Boundary
    metering_point: Metering
    supporting_works: SupportingWorks | None
    admin_approval: Approval
    outage_tier: str | None
    #: Whether the connection can be made live (不停电作业): the outage scheduling reads it.
    live_line: bool
    validity_months: int
    needs_joint_review: bool
    reasons: list[Reason]
    decisions: list[Decision]

    def decision(self, name: str) -> Decision:
        """The last decision about `name` (a KeyError names the decisions there are)."""
        for d in reversed(self.decisions):
            if d.field == name:
                return d
        raise KeyError(f"{name}: no such decision; have {[d.field for d in self.decisions]}")
