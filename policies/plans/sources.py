"""Power sources and connection points (电源及接入点): the nearest feasible points.

"现有公共电网基础上、满足客户用电需求且距离客户最近或接入成本最低的公共电网连接点" (000 三(三)1),
"就近接入" (000 三(二)2, 001 13): points are taken in order of estimated route length (the
straight line × the pack's route factor, `[params.plan_routing]`), up to the longest route the
pack allows at the access voltage. A point is feasible when it is at the access voltage (any
low-voltage point for a low-voltage customer), not restricted (电网受限负面清单), and the
feeder or transformer behind it has the demand open (`[params.plan_capacity]`).

Dual-supply and important customers get two sources whose feeders (or substations, as the pack
says, `[params.plan_sources]`) differ, each able to carry the whole demand. A restricted point
nearer than the chosen one that would otherwise have been taken sends the plan to joint review.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from policies.plans.capacity import carrier_of, feeder_of, point_open_kva, substation_of
from policies.plans.facts import Facts, Ledger
from policies.plans.plan import PointRef, PowerSource, Reservation
from policies.plans.resources import ConnectionPoint, GridSnapshot
from policies.plans.rules import LV_VOLTAGES, PlanRules
from policies.plans.spatial import PointFinder, index_of


@dataclass(slots=True)
class _Search:
    snapshot: GridSnapshot
    rules: PlanRules
    voltage: str
    demand_kva: float
    wanted: int
    distinct: str
    chosen: list[tuple[float, ConnectionPoint]] = field(default_factory=list)
    restricted: list[tuple[float, ConnectionPoint]] = field(default_factory=list)
    full: int = 0

    def at_voltage(self, point: ConnectionPoint) -> bool:
        if self.voltage in LV_VOLTAGES:
            return point.voltage in LV_VOLTAGES
        return point.voltage == self.voltage

    def has_room(self, point: ConnectionPoint) -> bool:
        open_kva = point_open_kva(self.snapshot, point, self.rules.capacity)
        return open_kva >= self.demand_kva

    def apart(self, point: ConnectionPoint) -> bool:
        """Whether `point` differs from every chosen source as the pack requires."""
        key = feeder_of if self.distinct == "feeder" else substation_of
        mine = key(self.snapshot, point)
        if mine is None:
            return False  # cannot show it is independent
        return all(key(self.snapshot, other) != mine for _, other in self.chosen)

    def consider(self, dist: float, point: ConnectionPoint) -> None:
        if not self.at_voltage(point) or (self.chosen and not self.apart(point)):
            return
        if not self.has_room(point):
            self.full += 1
        elif point.restricted:
            self.restricted.append((dist, point))
        else:
            self.chosen.append((dist, point))


def _wanted(facts: Facts, rules: PlanRules) -> tuple[int, str]:
    req, table = facts.request, rules.sources
    if not (req.dual_power or req.important):
        return 1, "feeder"
    kinds = []
    if req.dual_power:
        kinds.append(table.dual_power_distinct)
    if req.important:
        kinds.append(table.important_distinct)
    return 2, "substation" if "substation" in kinds else "feeder"


def choose_sources(
    facts: Facts,
    snapshot: GridSnapshot,
    rules: PlanRules,
    ledger: Ledger,
    finder: PointFinder | None = None,
) -> list[PowerSource]:
    """The plan's sources, nearest feasible first; reasons recorded when short of them.
    `finder` searches the snapshot's points (default: its spatial index)."""
    req, routing = facts.request, rules.routing
    cite = routing.source.cite()
    if req.location is None:
        ledger.refer("no_location", "no location: the connection point is chosen on site", cite)
        return []
    voltage = facts.access_voltage
    assert voltage is not None
    wanted, distinct = _wanted(facts, rules)
    if wanted == 2:
        ledger.decide(
            "power_source_count", 2, f"{rules.sources.source.cite()} (distinct {distinct})"
        )
    search = _Search(snapshot, rules, voltage, facts.capacity_kva, wanted, distinct)
    max_route = routing.max_route_m.get(voltage, 0.0)
    reach = max_route / routing.route_factor
    loc = req.location
    finder = finder if finder is not None else index_of(snapshot)
    found = finder.nearest(loc.lon, loc.lat, routing.search_start_m, reach, voltage)
    for dist, point in found:
        search.consider(dist, point)
        if len(search.chosen) == wanted:
            break
    _explain(search, max_route, ledger, cite)
    out = [_source(search, dist, point) for dist, point in search.chosen]
    for i, src in enumerate(out):
        value = {"id": src.connection_point.id, "route_m": src.route_m}
        ledger.decide(f"power_sources[{i}]", value, f"{cite} (nearest feasible point)")
    return out


def _explain(search: _Search, max_route: float, ledger: Ledger, cite: str) -> None:
    if not search.chosen:
        ledger.refer(
            "no_feasible_point",
            f"no open point at {search.voltage} for {search.demand_kva:g} kVA within a "
            f"{max_route:g} m route ({search.full} without room, "
            f"{len(search.restricted)} restricted)",
            cite,
        )
    elif len(search.chosen) < search.wanted:
        ledger.refer(
            "no_second_source",
            f"no second open point on another {search.distinct} within a {max_route:g} m route",
            cite,
        )
    first = search.chosen[0][0] if search.chosen else float("inf")
    for dist, point in search.restricted:
        if dist < first:
            reason = point.restricted_reason or "on the restricted list"
            ledger.refer(
                "best_point_restricted",
                f"the nearer point {point.id} is restricted: {reason}",
                cite,
            )


def _source(search: _Search, dist: float, point: ConnectionPoint) -> PowerSource:
    snapshot = search.snapshot
    carrier = carrier_of(point)
    assert carrier is not None  # a chosen point had open capacity, so it hangs on something
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
    )
    route = round(dist * search.rules.routing.route_factor, 1)
    reserve = Reservation(
        on="transformer" if on == "transformer" else "feeder", id=ident, kva=search.demand_kva
    )
    return PowerSource(connection_point=ref, route_m=route, reserve=reserve)
