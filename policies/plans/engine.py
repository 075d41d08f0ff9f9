"""The plan engine: `plan(request, snapshot, policy) -> Plan`. Pure: no I/O, no clock.

The steps, each recording its decisions with their clauses:
1. the demand in kW and kVA;
2. the access voltage by class, capacity and area; what the pack lets the engine decide alone;
3. the power sources (nearest feasible connection points);
4. the investment boundary and the metering point;
5. the outside line, the supporting works and their limit, the approval and its limit;
6. the outage tier and live-line work; the plan's validity.
Where a rule cannot decide (no feasible point, a restricted best point, a class or capacity a
person must judge, an unknown area, a voltage differing from the application's), the plan still
says what the engine found, and `needs_joint_review` is set with the reasons.
"""

from __future__ import annotations

from policies.plans.boundary import decide_boundary, decide_metering
from policies.plans.facts import Facts, Ledger
from policies.plans.plan import Plan
from policies.plans.request import PlanRequest
from policies.plans.resources import GridSnapshot
from policies.plans.review import check_review
from policies.plans.rules import LV_VOLTAGES, PlanRules, plan_rules
from policies.plans.sources import choose_sources
from policies.plans.spatial import PointFinder
from policies.plans.voltage import capacities, decide_access_voltage
from policies.plans.works import decide_approval, decide_outage, decide_works, outside_line
from policies.schema import ResolvedPolicy


def plan(
    request: PlanRequest,
    snapshot: GridSnapshot,
    policy: ResolvedPolicy,
    *,
    finder: PointFinder | None = None,
    rules: PlanRules | None = None,
) -> Plan:
    """The supply plan for `request` on the grid of `snapshot` under `policy`. `finder`
    searches the snapshot's points (default: a spatial index built for this call); `rules` are
    the policy's plan tables (default: parsed for this call)."""
    if request.unit != policy.unit:
        raise ValueError(f"unit: the request is for {request.unit!r}, the policy {policy.unit!r}")
    rules = rules if rules is not None else plan_rules(policy)
    ledger = Ledger()
    kw, kva = capacities(request, rules.access, ledger)
    facts = Facts(
        request=request,
        accepted_on=request.accepted_on(policy.settings.timezone),
        capacity_kw=kw,
        capacity_kva=kva,
        area=request.area,
    )
    voltage = decide_access_voltage(facts, rules.lv_classes, rules.access, ledger)
    facts = facts.with_voltage(voltage)
    check_review(facts, rules.review, ledger)
    sources = choose_sources(facts, snapshot, rules, ledger, finder)
    boundary = decide_boundary(facts, rules, ledger)
    metering = decide_metering(facts, rules, ledger)
    length = outside_line(facts, sources, rules, ledger)
    works = decide_works(facts, sources, length, boundary, policy, rules, ledger)
    approval = decide_approval(facts, length, policy, ledger)
    tier, live = decide_outage(facts, sources, policy, rules, ledger)
    months = _validity(voltage, rules, ledger)
    return Plan(
        unit=policy.unit,
        policy_version=policy.version,
        access_voltage=voltage,
        capacity_kva=kva,
        power_sources=sources,
        outside_line_m=length,
        investment_boundary=boundary,
        metering_point=metering,
        supporting_works=works,
        admin_approval=approval,
        outage_tier=tier,
        live_line=live,
        validity_months=months,
        needs_joint_review=bool(ledger.reasons),
        reasons=ledger.reasons,
        decisions=ledger.decisions,
    )


def _validity(voltage: str, rules: PlanRules, ledger: Ledger) -> int:
    table = rules.validity
    months = table.lv_months if voltage in LV_VOLTAGES else table.hv_months
    ledger.decide("validity_months", months, table.source.cite())
    return months
