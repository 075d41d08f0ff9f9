"""Grid resources as the layers share them: the codes the tables accept, the open-capacity
formula, and capacity reservations as values.

The plan engine reads `policies.plans.resources`; the read model stores rows; the API and the
activities pass these values between them. The formula lives here, once, because the read model
(which checks it inside the reservation's transaction) and the domain (which reports it) both
need it and neither may import the other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from policies.codes import VOLTAGES
from policies.plans.resources import POINT_KINDS, Location

ResourceKind = Literal["feeder", "transformer"]
RESOURCE_KINDS: tuple[str, ...] = ("feeder", "transformer")

#: Low voltage: what a public distribution transformer (台区) supplies.
LV_VOLTAGES: frozenset[str] = frozenset({"220V", "380V"})
#: Feeders: 10 kV, and 35 kV and above.
HV_VOLTAGES: frozenset[str] = VOLTAGES - LV_VOLTAGES
#: Substations, by their highest voltage (a 10 kV station is a switching station, a point).
SUBSTATION_VOLTAGES: frozenset[str] = HV_VOLTAGES - {"10kV", "20kV"}

ReservationState = Literal["held", "released"]
ReleaseReason = Literal["cancelled", "replaced", "expired", "revised"]

__all__ = [
    "HV_VOLTAGES",
    "LV_VOLTAGES",
    "POINT_KINDS",
    "RESOURCE_KINDS",
    "SUBSTATION_VOLTAGES",
    "OpenCapacity",
    "ReleaseRequest",
    "Reservation",
    "ReserveOutcome",
    "ReserveRequest",
    "ResourceKind",
    "ResourceRef",
    "SnapshotRequest",
    "open_kva",
]


def open_kva(rated_kva: float, loading_limit: float, used_kva: float, reserved_kva: float) -> float:
    """The capacity still open on a feeder or transformer: rated × loading limit − used −
    reserved. Negative when the resource is already loaded past its limit (reported as is:
    an operator should see by how much)."""
    return rated_kva * loading_limit - used_kva - reserved_kva


class ResourceRef(BaseModel):
    """The feeder or transformer a reservation holds capacity on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ResourceKind
    id: str = Field(min_length=1, max_length=64)


class Reservation(BaseModel):
    """Capacity an issued plan holds, first come, first served.

    One per (application, plan version, resource): an activity retried after a crash asks
    again with the same key and gets this same reservation back."""

    id: int
    application_no: str
    plan_version: int
    resource: ResourceRef
    kva: float
    state: ReservationState
    created_at: datetime
    released_at: datetime | None = None
    release_reason: str | None = None


class ReserveOutcome(BaseModel):
    """The answer to a reservation request.

    - `granted`: the reservation holds (newly, or already from an earlier attempt);
    - `no_capacity`: the resource's open capacity is below the request: try the next point,
      or go to joint review;
    - `superseded`: the application already holds capacity for a later plan version;
    - `released`: this very reservation existed and has been released since (the plan was
      cancelled, replaced or expired); it is returned as it is, never taken again;
    - `unknown_resource`: no such feeder or transformer.
    """

    outcome: Literal["granted", "no_capacity", "superseded", "released", "unknown_resource"]
    reservation: Reservation | None = None
    #: The open capacity of the resource when the request was judged (before granting it).
    open_kva: float | None = None

    @property
    def granted(self) -> bool:
        return self.outcome == "granted"


class OpenCapacity(BaseModel):
    """One feeder's or transformer's open capacity, with the figures it is made of."""

    kind: ResourceKind
    id: str
    name: str
    unit: str
    #: The feeder's voltage; a transformer's low-voltage side (380V).
    voltage: str
    #: The substation a feeder leaves; the feeder a transformer hangs on.
    parent: str
    rated_kva: float
    #: A feeder's used capacity, a transformer's load.
    used_kva: float
    reserved_kva: float
    loading_limit: float
    #: The clause (or the documented default) the loading limit comes from.
    loading_limit_source: str
    open_kva: float


# --------------------------------------------------------------------------- activity inputs


class SnapshotRequest(BaseModel):
    """The grid resources near a place, for the plan engine."""

    location: Location
    radius_km: float = Field(default=5.0, gt=0, le=50)
    #: Only resources of this unit and the units under it, when given.
    unit: str | None = None


class ReserveRequest(BaseModel):
    application_no: str
    plan_version: int = Field(ge=1)
    resource: ResourceRef
    kva: float = Field(gt=0)


class ReleaseRequest(BaseModel):
    application_no: str
    #: Every version when absent.
    plan_version: int | None = Field(default=None, ge=1)
    reason: ReleaseReason = "cancelled"
