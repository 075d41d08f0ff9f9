"""Supply plans in the application's life, as pure decisions: when the plan is made, what kind
it is, what the reviewers' decision changes in it, and what of it the deadlines read.

- When: the pack's stages say. Where the plan-reply stage does not apply (low voltage: 000
  三(二)2, "400伏以下低压报装取消供电方案答复环节"), the plan is generated at acceptance; where it
  applies, at `site_survey.completed` (the plan is drawn from what the survey found), or at
  acceptance when the pack skips the survey too. Change services get no plan.
- The deadlines follow the plan: its supporting works become the profile's `grid_works` (type
  and access voltage) and its outside line the profile's `outside_line_m`, so the grid-works
  limit and the outside-line approval stage are chosen from the plan's values by the packs'
  own rules (docs/plans.md, "The deadlines follow the plan"). A plan still in joint review
  changes nothing: the reviewers have not decided yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from contracts.grid import Reservation as HeldReservation
from contracts.plans import JointReviewDecision, PlanInputs, PlanKind, PlanRecord
from policies.codes import NEW_SERVICES
from policies.params import supporting_works_limit
from policies.plans.capacity import carrier_of, feeder_of, substation_of
from policies.plans.plan import (
    Approval,
    Decision,
    Limit,
    Plan,
    PointRef,
    PowerSource,
    Reservation,
    SupportingWorks,
)
from policies.plans.resources import GridSnapshot, Location
from policies.plans.spatial import haversine_m
from policies.profile import ApplicationProfile, GridWorks
from policies.schema import ResolvedPolicy

AT_ACCEPTANCE = "accept.started"
AT_SURVEY = "site_survey.completed"
REVISE = "revise"
JOINT_REVIEW = "joint_review"
DG_TYPES = frozenset({"dg_lv", "dg_hv"})
#: The supporting-works table times 20 kV with 10 kV, 66 kV with 35 kV (policies.plans.works).
_TABLE_VOLTAGE = {"20kV": "10kV", "66kV": "35kV", "220kV": "110kV"}


def plan_kind(business_type: str) -> PlanKind:
    return "access" if business_type in DG_TYPES else "supply"


def plan_trigger(business_type: str, skipped: Iterable[str]) -> str | None:
    """The event at which the application's first plan is made, or None (no plan)."""
    if business_type not in NEW_SERVICES:
        return None
    skipped = frozenset(skipped)
    if "plan_reply" in skipped or "site_survey" in skipped:
        return AT_ACCEPTANCE
    return AT_SURVEY


def plan_due(
    business_type: str,
    skipped: Iterable[str],
    events: Sequence[str],
    current: PlanRecord | None,
) -> str | None:
    """The trigger of the first plan when it is due now (its event recorded, no plan yet)."""
    if current is not None:
        return None
    trigger = plan_trigger(business_type, skipped)
    if trigger is None:
        return None
    if trigger == AT_ACCEPTANCE or trigger in events:
        return trigger
    return None


def missing_input(profile: ApplicationProfile, inputs: PlanInputs) -> str | None:
    """Why no plan can be made yet (the field and the reason), or None: the engine places
    the customer by `location`, or needs the measured outside line without it."""
    placed = profile.location is not None or inputs.location is not None
    measured = profile.outside_line_m is not None or inputs.outside_line_m is not None
    if not (placed or measured):
        return "location: give the location, or outside_line_m when it is known (revise)"
    if not (profile.capacity_kva or profile.capacity_kw):
        return "capacity_kva: a plan needs capacity_kva or capacity_kw, above 0"
    return None


def reviewed_inputs(inputs: PlanInputs, review: JointReviewDecision) -> PlanInputs:
    """The inputs a joint review's version is made from: the reviewers' permits in place of
    the earlier ones, so that later revisions keep them."""
    if review.permits is None:
        return inputs
    return inputs.model_copy(update={"permits": tuple(dict.fromkeys(review.permits))})


def deadline_profile(profile: ApplicationProfile, record: PlanRecord | None) -> ApplicationProfile:
    """The profile the deadlines are computed on: the application's, with the decided plan's
    supporting works and outside line in place of what was entered by hand."""
    if record is None or record.plan is None or record.state == "joint_review":
        return profile
    plan = record.plan
    works = plan.supporting_works
    grid_works = GridWorks(type=works.type, voltage=plan.access_voltage) if works else None
    length = plan.outside_line_m if plan.outside_line_m is not None else profile.outside_line_m
    if grid_works == profile.grid_works and length == profile.outside_line_m:
        return profile
    return profile.model_copy(update={"grid_works": grid_works, "outside_line_m": length})


def policy_with_plan(policy: ResolvedPolicy, record: PlanRecord | None) -> ResolvedPolicy:
    """The application's policy (as its start input carries it) with the rules its plan's
    values select besides."""
    if record is None or not (record.added_monitors or record.added_too_short):
        return policy
    have = {m.id for m in policy.monitors}
    short = {t.id for t in policy.too_short}
    return policy.model_copy(
        update={
            "monitors": [*policy.monitors, *(m for m in record.added_monitors if m.id not in have)],
            "too_short": [
                *policy.too_short,
                *(t for t in record.added_too_short if t.id not in short),
            ],
        }
    )


def without_own_holds(snapshot: GridSnapshot, own: Iterable[HeldReservation]) -> GridSnapshot:
    """The snapshot with the application's own held capacity counted as open: a retried plan
    or a new version may take it again (the reservation replaces the earlier one)."""
    feeders = dict(snapshot.feeders)
    transformers = dict(snapshot.transformers)
    for r in own:
        if r.state != "held":
            continue
        if r.resource.kind == "feeder" and r.resource.id in feeders:
            f = feeders[r.resource.id]
            feeders[f.id] = f.model_copy(update={"reserved_kva": max(0.0, f.reserved_kva - r.kva)})
        elif r.resource.id in transformers:
            t = transformers[r.resource.id]
            left = max(0.0, t.reserved_kva - r.kva)
            transformers[t.id] = t.model_copy(update={"reserved_kva": left})
    return snapshot.model_copy(update={"feeders": feeders, "transformers": transformers})


def without_resources(snapshot: GridSnapshot, full: Iterable[str]) -> GridSnapshot:
    """The snapshot without the points that hang on resources found full (`kind:id`)."""
    gone = frozenset(full)

    def kept(point_carrier: tuple[str, str] | None) -> bool:
        return point_carrier is None or f"{point_carrier[0]}:{point_carrier[1]}" not in gone

    points = tuple(p for p in snapshot.points if kept(carrier_of(p)))
    return snapshot.model_copy(update={"points": points})


class ReviewError(ValueError):
    """The reviewers' decision names what does not exist (the field, then the reason)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def reviewed(
    plan: Plan,
    review: JointReviewDecision,
    snapshot: GridSnapshot,
    policy: ResolvedPolicy,
    route_factor: float,
    location: Location | None,
) -> Plan:
    """`plan` with the reviewers' decisions in place of the engine's; no longer in review.
    `location`: the customer's, from which the route to the reviewers' point is estimated."""
    cite = f"joint review (专业联动) by {', '.join(review.reviewers)}"
    if review.note:
        cite += f": {review.note}"
    decisions = list(plan.decisions)
    update: dict[str, object] = {"needs_joint_review": False}
    voltage = review.access_voltage or plan.access_voltage
    if review.access_voltage is not None:
        update["access_voltage"] = review.access_voltage
        decisions.append(Decision(field="access_voltage", value=review.access_voltage, source=cite))
    if review.connection_point is not None:
        source = _source_at(plan, review.connection_point, snapshot, route_factor, location)
        update["power_sources"] = [source]
        update["outside_line_m"] = source.route_m
        decisions.append(Decision(field="connection_point", value=source.connection_point.id,
                                  source=cite))  # fmt: skip
    if review.supporting_works == "none":
        update["supporting_works"] = None
        decisions.append(Decision(field="supporting_works", value=None, source=cite))
    elif review.supporting_works is not None:
        update["supporting_works"] = _works(policy, review.supporting_works, voltage, cite)
        decisions.append(Decision(field="supporting_works", value=review.supporting_works,
                                  source=cite))  # fmt: skip
    if review.admin_approval_required is not None:
        update["admin_approval"] = Approval(
            required=review.admin_approval_required,
            limit=plan.admin_approval.limit if review.admin_approval_required else None,
            source=cite,
            mode=plan.admin_approval.mode,
            permits=(
                (tuple(review.permits or ()) or plan.admin_approval.permits)
                if review.admin_approval_required
                else ()
            ),
        )
        decisions.append(Decision(field="admin_approval.required",
                                  value=review.admin_approval_required, source=cite))  # fmt: skip
    update["decisions"] = decisions
    return plan.model_copy(update=update)


def _source_at(
    plan: Plan,
    point_id: str,
    snapshot: GridSnapshot,
    route_factor: float,
    location: Location | None,
) -> PowerSource:
    point = next((p for p in snapshot.points if p.id == point_id), None)
    if point is None:
        raise ReviewError("connection_point", f"no connection point {point_id!r} near the customer")
    carrier = carrier_of(point)
    if carrier is None:
        raise ReviewError("connection_point", f"{point_id!r} hangs on no feeder or transformer")
    on, ident = carrier
    ref = PointRef(
        id=point.id,
        kind=point.kind,
        voltage=point.voltage,
        feeder=feeder_of(snapshot, point),
        transformer=point.transformer,
        substation=substation_of(snapshot, point),
        lon=point.location.lon,
        lat=point.location.lat,
        restricted=point.restricted,
    )
    # The same estimate as the engine's: straight line × the pack's route factor; the
    # measured outside line when the customer's place is not known.
    if location is not None:
        straight = haversine_m(location.lon, location.lat, ref.lon, ref.lat)
        route = round(straight * route_factor, 1)
    else:
        route = plan.outside_line_m or 0.0
    reserve = Reservation(
        on="transformer" if on == "transformer" else "feeder", id=ident, kva=plan.capacity_kva
    )
    return PowerSource(connection_point=ref, route_m=route, reserve=reserve)


def _works(policy: ResolvedPolicy, kind: str, voltage: str, cite: str) -> SupportingWorks:
    answer = supporting_works_limit(policy, kind, _TABLE_VOLTAGE.get(voltage, voltage))
    if answer is None:
        return SupportingWorks(type=kind, limit=None, source=cite)
    limit = Limit(amount=answer.value.amount, unit=answer.value.unit)
    return SupportingWorks(type=kind, limit=limit, source=f"{cite}; {answer.source}")
