"""The investment boundary (投资分界点) and the metering point (计量点).

The boundary is where the company's investment ends: the customer's red line, the meter, the
meter box, a ring-main unit or pole switch, or the connection point itself. The unit's rules
(`[params.plan_investment]`) are read in order; the first in force whose condition holds wins,
and the last is the catch-all. Conditions read the decided access voltage (most classes are
"high-voltage customers of …" or "customers connected at low voltage …"), and Jilin's
zero-investment rules read the acceptance year and the area.

"计量装置原则上应在供用电双方的产权分界点装设" (000 三(三)1): the metering point follows the
access voltage (`[params.plan_metering]`).
"""

from __future__ import annotations

from policies.plans.facts import Facts, Ledger, by_area
from policies.plans.plan import Boundary, Metering
from policies.plans.rules import BOUNDARY_LABELS, LV_VOLTAGES, InvestmentRule, PlanRules


def _rule(facts: Facts, rules: list[InvestmentRule]) -> InvestmentRule:
    for rule in rules:
        if not rule.in_force(facts.accepted_on):
            continue
        if rule.when is None or facts.matches(rule.when):
            return rule
    return rules[-1]  # the catch-all (the table refuses rules without one)


def decide_boundary(facts: Facts, rules: PlanRules, ledger: Ledger) -> Boundary:
    table = rules.investment.rules
    rule, ambiguous = by_area(facts, lambda f: _rule(f, table), lambda r: r.code)
    cite = rule.source.cite()
    if ambiguous:
        ledger.refer(
            "area_unknown",
            f"the investment boundary depends on whether the site is urban or rural; shown for "
            f"rural: {rule.code}",
            cite,
        )
    ledger.decide("investment_boundary", rule.code, f"{cite} ({rule.id})")
    label = rule.label or BOUNDARY_LABELS[rule.code]
    return Boundary(code=rule.code, label=label, source=cite)


def decide_metering(facts: Facts, rules: PlanRules, ledger: Ledger) -> Metering:
    table = rules.metering
    point = table.lv if facts.access_voltage in LV_VOLTAGES else table.hv
    cite = table.source.cite()
    ledger.decide("metering_point", point.code, cite)
    return Metering(code=point.code, label=point.label, source=cite)
