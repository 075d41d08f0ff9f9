"""What building the connection takes: the outside line, the supporting works (配套工程) and
their construction limit, the outside-line approval (行政审批) and its limit, the outage-plan
tier (停送电计划) and whether the connection can be made live (不停电作业).

The limits are the packs' existing tables, read through `policies.params`; the works type is
chosen by `[params.plan_supporting_works]` from the point's kind, the access voltage, the route
and whether the company builds the line (the investment boundary lies beyond the point).
"""

from __future__ import annotations

from policies.params import admin_approval, outage_plan_tier, supporting_works_limit
from policies.plans.facts import Facts, Ledger
from policies.plans.plan import Approval, Boundary, Limit, PowerSource, SupportingWorks
from policies.plans.rules import LV_VOLTAGES, PlanRules, WorksTable
from policies.schema import ResolvedPolicy

#: The voltage whose row of a limit table times a voltage (the Henan tables time 20 kV with
#: 10 kV, 66 kV with 35 kV, 220 kV with 110 kV: docs/policies.md).
_TABLE_VOLTAGE = {"20kV": "10kV", "66kV": "35kV", "220kV": "110kV"}
_GIVEN = "application: outside_line_m as measured"
_PERMITS_GIVEN = "application: the permits the route needs, as staff named them (revise)"
_NATIONAL_APPROVAL = (
    "DESIGN.md §4 outside-line approvals "
    "(project default: needed whenever an outside line is built)"
)


def outside_line(
    facts: Facts, sources: list[PowerSource], rules: PlanRules, ledger: Ledger
) -> float | None:
    """The outside line's length: as measured when given, else the longest estimated route."""
    given = facts.request.outside_line_m
    if given is not None:
        ledger.decide("outside_line_m", given, _GIVEN)
        return given
    if not sources:
        return None
    length = max(s.route_m for s in sources)
    ledger.decide("outside_line_m", length, f"{rules.routing.source.cite()} (estimated route)")
    return length


def _works_type(
    table: WorksTable, voltage: str, kind: str, route_m: float, builds_line: bool
) -> str | None:
    if voltage not in ("10kV", "20kV"):
        return table.works_35kv_up.get(kind, table.works_35kv_up.get("default"))
    if builds_line and route_m > table.t_connection_max_m:
        return table.line_works.get(kind)
    return table.connection_works.get(kind)


def _lv_works(
    facts: Facts, table: WorksTable, length: float | None, boundary: Boundary, ledger: Ledger
) -> str | None:
    cite = table.source.cite()
    if boundary.code == "connection_point":
        ledger.decide("supporting_works", None, f"{cite} (the customer builds from the point)")
        return None
    if length is not None and length <= table.lv_service_drop_max_m:
        ledger.decide("supporting_works", None, f"{cite} (a service drop fitted with the meter)")
        return None
    return table.lv_small_micro_type if facts.small_micro else table.lv_type


def decide_works(
    facts: Facts,
    sources: list[PowerSource],
    length: float | None,
    boundary: Boundary,
    policy: ResolvedPolicy,
    rules: PlanRules,
    ledger: Ledger,
) -> SupportingWorks | None:
    """The supporting works and their construction limit (the longest of the sources')."""
    table, voltage = rules.works, facts.access_voltage
    assert voltage is not None
    cite = table.source.cite()
    if not sources and (length is None or voltage not in LV_VOLTAGES):
        ledger.decide("supporting_works", None, f"{cite} (decided with the connection point)")
        return None
    if voltage in LV_VOLTAGES:
        kinds = [_lv_works(facts, table, length, boundary, ledger)]
    else:
        builds = boundary.code != "connection_point"
        kinds = [
            _works_type(table, voltage, s.connection_point.kind, s.route_m, builds) for s in sources
        ]
    options = [_with_limit(policy, k, voltage, cite) for k in kinds if k is not None]
    if not options:
        return None
    works = max(options, key=lambda w: w.limit.amount if w.limit else -1.0)
    ledger.decide("supporting_works", works.type, f"{cite} (point kind, route, boundary)")
    if works.limit is not None:
        ledger.decide("supporting_works.limit", works.limit.model_dump(), works.source)
    return works


def _with_limit(policy: ResolvedPolicy, kind: str, voltage: str, cite: str) -> SupportingWorks:
    answer = supporting_works_limit(policy, kind, _TABLE_VOLTAGE.get(voltage, voltage))
    if answer is None:
        return SupportingWorks(type=kind, limit=None, source=cite)
    limit = Limit(amount=answer.value.amount, unit=answer.value.unit)
    return SupportingWorks(type=kind, limit=limit, source=answer.source)


def decide_approval(
    facts: Facts, length: float | None, policy: ResolvedPolicy, ledger: Ledger
) -> Approval:
    req = facts.request
    answer = admin_approval(
        policy, facts.access_voltage, length, req.business_type, req.flags, facts.accepted_on
    )
    if answer is None:
        # No table: the national rule, approval whenever an outside line is built.
        required = bool(length)
        source = _NATIONAL_APPROVAL
        approval = Approval(required=required, limit=None, source=source)
    else:
        duration = answer.value["limit"]
        limit = Limit(amount=duration.amount, unit=duration.unit) if duration else None
        approval = Approval(
            required=answer.value["required"],
            limit=limit,
            source=answer.source,
            mode=answer.value["mode"],
        )
    ledger.decide("admin_approval.required", approval.required, approval.source)
    if approval.limit is not None:
        ledger.decide("admin_approval.limit", approval.limit.model_dump(), approval.source)
    if approval.required and req.permits:
        # An exempt line needs none of them, whatever was named.
        approval = approval.model_copy(update={"permits": req.permits})
        ledger.decide("admin_approval.permits", list(req.permits), _PERMITS_GIVEN)
    return approval


def decide_outage(
    facts: Facts,
    sources: list[PowerSource],
    policy: ResolvedPolicy,
    rules: PlanRules,
    ledger: Ledger,
) -> tuple[str | None, bool]:
    """(tier, live_line): live-line work where every source's point and the voltage allow it;
    the tier from the pack's outage-plan table."""
    table, voltage = rules.outage, facts.access_voltage
    assert voltage is not None
    kinds = [s.connection_point.kind for s in sources]
    live = bool(kinds) and voltage in table.live_line_voltages
    live = live and all(k in table.live_line_point_kinds for k in kinds)
    others = not (kinds and all(k in table.own_bay_point_kinds for k in kinds))
    ledger.decide("live_line", live, table.source.cite())
    answer = outage_plan_tier(policy, voltage, others, live)
    if answer is None:
        ledger.decide("outage_tier", None, f"{table.source.cite()} (the pack has no tier table)")
        return None, live
    row = policy.params["outage_plan_tiers"].get(answer.value, {})
    if "voltages" not in row and "requires" not in row:
        # A table that maps no voltage to its tiers (Huangchuan) decides only live-line work.
        tier = "live_line" if live else None
        ledger.decide("outage_tier", tier, f"{answer.source} (the table maps no voltage)")
        return tier, live
    ledger.decide("outage_tier", answer.value, answer.source)
    return answer.value, live
