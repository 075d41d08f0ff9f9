"""The plan preview (`POST /api/plan-preview`): the consultation answer (前期咨询) for a profile.

The body is the deadline preview's profile plus `location`, which may be left out when
`outside_line_m` is given. Loading the pack reads files (`ProfileIn` checks the unit and its
flags), so this module is for the API and tests, not for workflow code.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import ConfigDict, field_validator

from policies.codes import NEW_SERVICES
from policies.loader import load_policy
from policies.plans.engine import plan
from policies.plans.plan import Plan
from policies.plans.request import PlanRequest
from policies.plans.resources import GridSnapshot, Location
from policies.preview import ProfileIn, profile_json_schema


class GridProvider(Protocol):
    """Reads the grid resources near a customer (the demo grid, or the grid tables)."""

    def __call__(
        self, unit: str, location: Location | None, voltage: str | None
    ) -> GridSnapshot: ...


def _given(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"required": [name], "properties": {name: schema or {"not": {"type": "null"}}}}


def _plan_schema(schema: dict[str, Any], cls: type[Any]) -> None:
    """The profile's schema and what a plan needs besides (`missing()`, the business type's
    check), for clients and fuzzers: a new service, a capacity above 0, and a location or
    the measured outside line."""
    profile_json_schema(schema, cls)
    schema["properties"]["business_type"] = {
        "type": "string",
        "enum": sorted(NEW_SERVICES),
        "description": "A new service or added capacity: change services get no plan",
    }
    above_zero = {"type": "number", "exclusiveMinimum": 0}
    schema.setdefault("allOf", []).extend(
        [
            {"anyOf": [_given("capacity_kva", above_zero), _given("capacity_kw", above_zero)]},
            {"anyOf": [_given("location"), _given("outside_line_m")]},
        ]
    )


class PlanPreviewRequest(ProfileIn):
    """Same body as the deadline preview (with the profile's `location`); other fields are
    ignored."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_plan_schema)

    @field_validator("business_type")
    @classmethod
    def _new_service(cls, value: str) -> str:
        if value not in NEW_SERVICES:
            raise ValueError(
                f"no supply plan for {value!r}: plans are made for new services and added capacity"
            )
        return value

    def missing(self) -> list[tuple[str, str]]:
        """(field, reason) for what a plan needs and the body leaves out."""
        out: list[tuple[str, str]] = []
        if not (self.capacity_kva or self.capacity_kw):
            out.append(("capacity_kva", "a plan needs capacity_kva or capacity_kw, above 0"))
        if self.location is None and self.outside_line_m is None:
            out.append(("location", "give the location, or outside_line_m when it is known"))
        return out

    def plan_request(self) -> PlanRequest:
        return PlanRequest.from_profile(self, location=self.location)


def plan_preview(body: PlanPreviewRequest, grid: GridProvider) -> Plan:
    """The plan `body` would get on the grid `grid` reads (the caller checked `missing()`)."""
    request = body.plan_request()
    snapshot = grid(body.unit, request.location, None)
    return plan(request, snapshot, load_policy(body.unit))
