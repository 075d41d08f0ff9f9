"""The access voltage (供电电压等级): by customer class first, then by capacity.

Order of the rules (`[params.plan_access]`, `[params.plan_lv_classes]`):
1. distributed generation: the generation ladder (`dg_ladder`);
2. the low-voltage classes, first match in force: a class within its capacity is connected at
   low voltage, unless it carries the class's voluntary-HV flag (客户出具自愿高压接入证明), and
   above it by the capacity ladder; an excluded customer (a flag or business type the class
   names) is not of the class;
3. the general rule: low voltage up to `lv_max` (single-phase 220 V for the named types up to
   `single_phase_max`), then the first rung of `ladder` whose capacity covers the demand.
The application's own voltage is not followed: where it differs, a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from policies.plans.facts import Facts, Ledger, by_area
from policies.plans.request import PlanRequest
from policies.plans.rules import LV_VOLTAGES, AccessTable, LvClass, LvClassTable, Rung


@dataclass(frozen=True, slots=True)
class Choice:
    voltage: str
    source: str
    why: str


def capacities(request: PlanRequest, table: AccessTable, ledger: Ledger) -> tuple[float, float]:
    """(kW, kVA) of the demand; a missing one is converted with the pack's power factor, and
    the conversion is recorded."""
    kw, kva, pf = request.capacity_kw, request.capacity_kva, table.power_factor
    cite = table.source.cite()
    if kw and kva:
        return kw, kva
    if kva:
        kw = round(kva * pf, 3)
        ledger.decide("capacity_kw", kw, f"{cite} (capacity_kva × power factor {pf})")
        return kw, kva
    assert kw  # the request refuses a plan without capacity
    kva = round(kw / pf, 3)
    ledger.decide("capacity_kva", kva, f"{cite} (capacity_kw ÷ power factor {pf})")
    return kw, kva


def _climb(facts: Facts, ladder: list[Rung]) -> str:
    for rung in ladder:
        if rung.max is None or facts.within(rung.max):
            return rung.voltage
    return ladder[-1].voltage


def _lv(facts: Facts, table: AccessTable) -> str:
    single = facts.request.business_type in table.single_phase_business_types
    return "220V" if single and facts.within(table.single_phase_max) else "380V"


def _excluded(facts: Facts, cls: LvClass) -> bool:
    req = facts.request
    return req.business_type in cls.exclude_business_types or any(
        f in req.flags for f in cls.exclude_flags
    )


def _by_class(facts: Facts, classes: LvClassTable, table: AccessTable) -> Choice | None:
    for cls in classes.classes:
        if not cls.in_force(facts.accepted_on) or not facts.matches(cls.when):
            continue
        if _excluded(facts, cls):
            continue
        cite = cls.source.cite()
        if not facts.within(cls.max):
            # The class's limit is its low-voltage limit: above it, the capacity ladder.
            why = f"{cls.id}: above {cls.max.amount:g} {cls.max.unit}"
            return Choice(_climb(facts, table.ladder), cite, why)
        if cls.voluntary_hv_flag and cls.voluntary_hv_flag in facts.request.flags:
            why = f"{cls.id}: within {cls.max.amount:g} {cls.max.unit}, voluntary high voltage"
            return Choice(table.ladder[0].voltage, cite, why)
        why = f"{cls.id}: within {cls.max.amount:g} {cls.max.unit}"
        return Choice(_lv(facts, table), cite, why)
    return None


def access_choice(facts: Facts, classes: LvClassTable, table: AccessTable) -> Choice:
    """The access voltage under one reading of the facts (area known or assumed)."""
    cite = table.source.cite()
    if facts.request.business_type in table.dg_business_types:
        return Choice(_climb(facts, table.dg_ladder), cite, "generation ladder")
    by_class = _by_class(facts, classes, table)
    if by_class is not None:
        return by_class
    if facts.within(table.lv_max):
        return Choice(
            _lv(facts, table), cite, f"within {table.lv_max.amount:g} {table.lv_max.unit}"
        )
    return Choice(_climb(facts, table.ladder), cite, "capacity ladder")


def decide_access_voltage(
    facts: Facts, classes: LvClassTable, table: AccessTable, ledger: Ledger
) -> str:
    """The access voltage, recorded; asks a person when it depends on an unknown area or
    differs from the voltage the application was made at."""
    choice, ambiguous = by_area(
        facts, lambda f: access_choice(f, classes, table), lambda c: c.voltage
    )
    if ambiguous:
        ledger.refer(
            "area_unknown",
            "the access voltage depends on whether the site is urban or rural; "
            f"shown for rural: {choice.voltage}",
            choice.source,
        )
    voltage = _reconcile(facts.request.voltage, choice, ledger)
    ledger.decide("access_voltage", voltage, f"{choice.source} ({choice.why})")
    return voltage


def _reconcile(asked: str | None, choice: Choice, ledger: Ledger) -> str:
    if asked is None or asked == choice.voltage:
        return choice.voltage
    if asked == "380V" and choice.voltage == "220V":
        return asked  # three-phase where single-phase would do: the customer's choice
    if asked in LV_VOLTAGES and choice.voltage in LV_VOLTAGES:
        detail = f"the application asks {asked}; the capacity needs {choice.voltage}"
    else:
        detail = f"the application was made at {asked}; the rules give {choice.voltage}"
    ledger.refer("voltage_mismatch", detail, choice.source)
    return choice.voltage
