"""The plan activity: an application's supply plan, made from the grid near it and reserved.

`make_plan` reads the grid around the application's location, runs the plan engine, applies
the reviewers' decision when there is one, and reserves the capacity of each source, first come,
first served. When a resource's last capacity went to another application since the snapshot
was read, the plan is made again without it (the next point), a few times; then it goes to
joint review. Idempotent under retries and worker crashes: the reservations are keyed by
(application, plan version, resource), and the application's own holds count as open when the
plan is made again, so a retry finds the same points and gets the same reservations back.

`release_plan` gives back what the application holds (cancellation, or a revision whose new
version holds nothing).
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio import activity

from activities.grid import GridActivities
from contracts.errors import Refusal, refusal_error
from contracts.grid import ReleaseRequest, Reservation, ReserveRequest, ResourceRef
from contracts.plans import PlanJob, PlanRecord, PlanState
from domain.grid import policy_for_unit, search_radius_km, snapshot_of
from domain.plans import (
    ReviewError,
    deadline_profile,
    reviewed,
    without_own_holds,
    without_resources,
)
from policies.engine import select_rules
from policies.loader import load_policy
from policies.plans.engine import plan as make
from policies.plans.plan import Plan, Reason
from policies.plans.request import PlanRequest
from policies.plans.resources import GridSnapshot
from policies.plans.rules import plan_rules
from policies.schema import ResolvedPolicy
from readmodel import reservations
from readmodel.grid_reads import rows_near

log = logging.getLogger(__name__)

#: How many times a plan is made again when its resource filled up meanwhile.
ATTEMPTS = 4
CAPACITY_TAKEN = Reason(
    code="capacity_taken",
    detail="the last open capacity of the chosen points went to other applications",
    source="001 §13 先到先得 (first come, first served); docs/plans.md",
)


def with_rules(record: PlanRecord, job: PlanJob, policy: ResolvedPolicy) -> PlanRecord:
    """The record with the deadline rules its values select that the application's start
    input lacks. Only from the pack version the application is judged by: a pack changed
    since keeps the application on the rules it started with (docs/plans.md)."""
    if policy.version != job.policy_version:
        return record
    selected = select_rules(policy, deadline_profile(job.profile, record))
    return record.model_copy(
        update={
            "added_monitors": [m for m in selected.monitors if m.id not in job.monitor_ids],
            "added_too_short": [t for t in selected.too_short if t.id not in job.too_short_ids],
        }
    )


class PlanActivities:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._grid = GridActivities(engine)

    @activity.defn
    def make_plan(self, job: PlanJob) -> PlanRecord:
        base = PlanRecord(
            version=job.version,
            kind=job.kind,
            trigger=job.trigger,
            state="not_planned",
            made_at=job.at,
            inputs=job.inputs,
            review=job.review,
        )
        try:
            request = PlanRequest.from_profile(
                job.profile,
                location=job.inputs.location,
                outside_line_m=job.inputs.outside_line_m,
                permits=job.inputs.permits or (),
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            reason = str(first["msg"]).removeprefix("Value error, ")
            return base.model_copy(update={"refused": reason})
        policy = load_policy(job.profile.unit)
        snapshot = self._snapshot(job, request)
        record = self._plan_and_reserve(job, base, request, policy, snapshot)
        return with_rules(record, job, policy)

    @activity.defn
    def release_plan(self, req: ReleaseRequest) -> list[Reservation]:
        return reservations.release(
            self._engine, req.application_no, req.plan_version, reason=req.reason
        )

    def _snapshot(self, job: PlanJob, request: PlanRequest) -> GridSnapshot:
        unit = job.profile.unit
        pack = policy_for_unit(unit)
        # The 10 kV radius at least: the engine may decide a voltage other than the applied
        # one (and asks a person then), and must see the points it would have chosen.
        radius = max(search_radius_km(pack, None), search_radius_km(pack, request.voltage))
        with Session(self._engine) as session:
            if request.location is None:
                rows = rows_near(session, None, None, radius, unit)
            else:
                # The province's points: a customer near a county's border may be nearest
                # to its neighbour's point (as the plan preview reads).
                loc = request.location
                rows = rows_near(session, loc.lon, loc.lat, radius, unit.split("/", 1)[0])
        own = reservations.reservations_of(self._engine, job.application_no)
        return without_own_holds(snapshot_of(rows), own)

    def _plan_and_reserve(
        self,
        job: PlanJob,
        base: PlanRecord,
        request: PlanRequest,
        policy: ResolvedPolicy,
        snapshot: GridSnapshot,
    ) -> PlanRecord:
        rules = plan_rules(policy)
        taken: list[str] = []
        for _ in range(ATTEMPTS):
            plan = make(request, without_resources(snapshot, taken), policy, rules=rules)
            if job.review is not None:
                try:
                    plan = reviewed(
                        plan,
                        job.review,
                        snapshot,
                        policy,
                        rules.routing.route_factor,
                        request.location,
                    )
                except ReviewError as exc:
                    raise refusal_error(Refusal.one("invalid", exc.field, exc.reason)) from None
            if plan.needs_joint_review or not plan.power_sources:
                return self._record(base, plan, "joint_review", [], taken)
            held, full = self._reserve(job, plan)
            if full is None:
                return self._record(base, plan, "proposed", held, taken)
            taken.append(full)
            if job.review is not None:
                # The reviewers chose the point: no other is tried in their name.
                break
        log.info("plan v%d of %s: capacity taken on %s", job.version, job.application_no, taken)
        self._release_version(job)
        late = plan.model_copy(
            update={"needs_joint_review": True, "reasons": [*plan.reasons, CAPACITY_TAKEN]}
        )
        return self._record(base, late, "joint_review", [], taken)

    def _reserve(self, job: PlanJob, plan: Plan) -> tuple[list[Reservation], str | None]:
        """The plan's reservations, or the first resource (`kind:id`) found full; the version's
        holds on resources the plan no longer uses are released."""
        held: list[Reservation] = []
        for source in plan.power_sources:
            ref = ResourceRef(kind=source.reserve.on, id=source.reserve.id)
            outcome = self._grid.reserve_capacity(
                ReserveRequest(
                    application_no=job.application_no,
                    plan_version=job.version,
                    resource=ref,
                    kva=source.reserve.kva,
                )
            )
            if outcome.outcome == "superseded":
                # A later version exists: this request is stale (a retry after a revision).
                raise refusal_error(
                    Refusal.one("conflict", "version", f"plan v{job.version} was superseded")
                )
            if not outcome.granted or outcome.reservation is None:
                return held, f"{ref.kind}:{ref.id}"
            held.append(outcome.reservation)
        used = {(r.resource.kind, r.resource.id) for r in held}
        stale = [
            r.resource
            for r in reservations.reservations_of(self._engine, job.application_no)
            if r.plan_version == job.version
            and r.state == "held"
            and (r.resource.kind, r.resource.id) not in used
        ]
        reservations.release_resources(
            self._engine, job.application_no, job.version, stale, reason="replaced"
        )
        return held, None

    def _release_version(self, job: PlanJob) -> None:
        reservations.release(self._engine, job.application_no, job.version, reason="replaced")

    @staticmethod
    def _record(
        base: PlanRecord, plan: Plan, state: PlanState, held: list[Reservation], taken: list[str]
    ) -> PlanRecord:
        return base.model_copy(
            update={"plan": plan, "state": state, "reservations": held, "taken": taken}
        )
