"""The plan rules of a pack: its `[params.plan_*]` tables, as typed values (pure: no I/O).

Each table carries `source = {file, section}` (the loader refuses a table without one); rules
inside a table that come from different clauses (the low-voltage classes, the investment
boundaries, the classes that need a person) carry their own. `check_plan_tables` is run by the
loader, so a malformed plan table refuses the pack instead of failing a plan later.

A child pack replaces a table key by key (`params` tables merge that way), so a list such as
`lv_classes` or `rules` is replaced whole, never spliced.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from policies.codes import BUSINESS_TYPES, SUPPORTING_WORKS_TYPES, VOLTAGES
from policies.plans.resources import POINT_KINDS
from policies.schema import ResolvedPolicy, Source

BoundaryCode = Literal[
    "red_line", "meter", "meter_box", "ring_main_unit_or_pole_switch", "connection_point"
]

#: The Chinese label of each investment-boundary code (a rule may give its own wording).
BOUNDARY_LABELS: dict[str, str] = {
    "red_line": "客户规划红线 (红线外第一断路器或第一支持物)",
    "meter": "电能表 (含计量装置)",
    "meter_box": "计量表箱",
    "ring_main_unit_or_pole_switch": "环网柜或柱上开关",
    "connection_point": "公共电网连接点",
}

LV_VOLTAGES: frozenset[str] = frozenset({"220V", "380V"})


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Amount(_Table):
    """A capacity threshold in the unit its clause states (kW and kVA are never mixed silently:
    the engine converts with the pack's power factor and records that it did)."""

    amount: float = Field(gt=0)
    unit: Literal["kW", "kVA"]


class PlanWhen(_Table):
    """When a plan rule applies: every given field must hold."""

    business_types: list[str] | None = None
    not_business_types: list[str] | None = None
    #: The request is a small or micro business (`small_micro`, or business type lv_small_micro).
    small_micro: bool | None = None
    area: Literal["urban", "rural"] | None = None
    #: The decided access voltage is low ("lv") or high ("hv").
    access: Literal["lv", "hv"] | None = None
    access_voltages: list[str] | None = None
    flags: list[str] | None = None
    any_flags: list[str] | None = None
    not_flags: list[str] | None = None
    dual_power: bool | None = None
    important: bool | None = None
    capacity_le: Amount | None = None
    capacity_gt: Amount | None = None

    def flag_names(self) -> list[str]:
        return [*(self.flags or []), *(self.any_flags or []), *(self.not_flags or [])]


class _Dated(_Table):
    effective_from: date | None = None
    effective_until: date | None = None

    def in_force(self, on: date) -> bool:
        after = self.effective_from is None or on >= self.effective_from
        return after and (self.effective_until is None or on < self.effective_until)


class LvClass(_Dated):
    """A customer class connected at low voltage up to a capacity, whatever the general ladder
    says (small and micro businesses up to 160 kW; Yantai's enterprises by area)."""

    id: str
    when: PlanWhen
    max: Amount
    exclude_flags: list[str] = Field(default_factory=list)
    exclude_business_types: list[str] = Field(default_factory=list)
    #: The flag by which the customer asks for high voltage instead (自愿高压接入).
    voluntary_hv_flag: str | None = None
    source: Source


class Rung(_Table):
    voltage: str
    #: Up to this capacity; the last rung has none (everything above).
    max: Amount | None = None


class AccessTable(_Table):
    source: Source
    power_factor: float = Field(gt=0, le=1)
    single_phase_max: Amount
    single_phase_business_types: list[str]
    lv_max: Amount
    ladder: list[Rung] = Field(min_length=1)
    dg_ladder: list[Rung] = Field(min_length=1)
    dg_business_types: list[str]


class LvClassTable(_Table):
    source: Source
    classes: list[LvClass] = Field(default_factory=list)


class ReviewRule(_Dated):
    """A plan the engine proposes but a person decides: `above_auto_limit` (a voltage or a
    capacity above what the pack lets the engine decide alone) or `class_needs_person`."""

    id: str
    code: Literal["above_auto_limit", "class_needs_person"]
    label: str
    when: PlanWhen
    source: Source


class ReviewTable(_Table):
    source: Source
    rules: list[ReviewRule] = Field(default_factory=list)


class SourcesTable(_Table):
    source: Source
    #: Dual-supply customers: the two sources differ in at least this.
    dual_power_distinct: Literal["feeder", "substation"]
    #: Important customers (重要用户): two sources differing in at least this.
    important_distinct: Literal["feeder", "substation"]


class RoutingTable(_Table):
    source: Source
    #: Estimated route length = straight-line distance × this factor.
    route_factor: float = Field(ge=1)
    #: The first search radius (m of straight line); doubled until `max_route_m`.
    search_start_m: float = Field(gt=0)
    #: The longest route the engine proposes, per access voltage (m).
    max_route_m: dict[str, float]


class CapacityTable(_Table):
    source: Source
    feeder_loading_limit: float = Field(gt=0, le=1)
    transformer_loading_limit: float = Field(gt=0, le=1)


class WorksTable(_Table):
    source: Source
    #: A low-voltage route this short is a service drop fitted with the meter: no works.
    lv_service_drop_max_m: float = Field(ge=0)
    lv_type: str
    lv_small_micro_type: str
    #: A pole further than this needs a new line, not a T-connection.
    t_connection_max_m: float = Field(ge=0)
    #: 10/20 kV, by point kind: works at the point when no line is built by the company.
    connection_works: dict[str, str]
    #: 10/20 kV, by point kind: works when the company builds the line towards the customer.
    line_works: dict[str, str]
    #: 35 kV and above, by point kind (`default` for the others).
    works_35kv_up: dict[str, str]


class InvestmentRule(_Dated):
    id: str
    code: BoundaryCode
    label: str | None = None
    #: None: the catch-all, which must come last.
    when: PlanWhen | None = None
    source: Source


class InvestmentTable(_Table):
    source: Source
    rules: list[InvestmentRule] = Field(min_length=1)

    @model_validator(mode="after")
    def _catch_all_last(self) -> InvestmentTable:
        last = self.rules[-1]
        if last.when is not None or last.effective_from or last.effective_until:
            raise ValueError("rules: the last rule must be the catch-all (no when, no dates)")
        return self


class MeteringPoint(_Table):
    code: str
    label: str


class MeteringTable(_Table):
    source: Source
    lv: MeteringPoint
    hv: MeteringPoint


class OutageTable(_Table):
    source: Source
    live_line_voltages: list[str]
    live_line_point_kinds: list[str]
    #: Points whose connection takes no other customer off supply (a bay of its own).
    own_bay_point_kinds: list[str]


class ValidityTable(_Table):
    source: Source
    lv_months: int = Field(gt=0)
    hv_months: int = Field(gt=0)


class PlanRules(_Table):
    """Every plan table of one resolved policy."""

    access: AccessTable
    lv_classes: LvClassTable
    review: ReviewTable
    sources: SourcesTable
    routing: RoutingTable
    capacity: CapacityTable
    works: WorksTable
    investment: InvestmentTable
    metering: MeteringTable
    outage: OutageTable
    validity: ValidityTable


TABLES: dict[str, type[_Table]] = {
    "plan_access": AccessTable,
    "plan_lv_classes": LvClassTable,
    "plan_review": ReviewTable,
    "plan_sources": SourcesTable,
    "plan_routing": RoutingTable,
    "plan_capacity": CapacityTable,
    "plan_supporting_works": WorksTable,
    "plan_investment": InvestmentTable,
    "plan_metering": MeteringTable,
    "plan_outage": OutageTable,
    "plan_validity": ValidityTable,
}
_FIELDS: dict[str, str] = {
    "plan_access": "access",
    "plan_lv_classes": "lv_classes",
    "plan_review": "review",
    "plan_sources": "sources",
    "plan_routing": "routing",
    "plan_capacity": "capacity",
    "plan_supporting_works": "works",
    "plan_investment": "investment",
    "plan_metering": "metering",
    "plan_outage": "outage",
    "plan_validity": "validity",
}


class PlanRulesError(ValueError):
    """A plan table is missing or malformed; the message names `params.<table>.<field>`."""


_T = TypeVar("_T", bound=_Table)


def _parse(name: str, model: type[_T], data: dict[str, Any]) -> _T:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise PlanRulesError(f"params.{name}.{loc}: {err['msg']}") from None


def _unknown(values: list[str], allowed: frozenset[str] | tuple[str, ...]) -> list[str]:
    return [v for v in values if v not in allowed]


def _check_codes(name: str, table: _Table, flags: dict[str, str]) -> None:
    """Codes a table names must be the project's (GLOSSARY) and flags declared in the chain."""
    checks: list[tuple[str, list[str], frozenset[str] | tuple[str, ...]]] = []
    for where, when in _conditions(table):
        checks += [
            (f"{where}.business_types", list(when.business_types or []), BUSINESS_TYPES),
            (f"{where}.not_business_types", list(when.not_business_types or []), BUSINESS_TYPES),
            (f"{where}.access_voltages", list(when.access_voltages or []), VOLTAGES),
            (f"{where}.flags", when.flag_names(), frozenset(flags)),
        ]
    checks += _table_codes(table, flags)
    for where, values, allowed in checks:
        bad = _unknown(values, allowed)
        if bad:
            raise PlanRulesError(f"params.{name}.{where}: unknown {bad!r}")


def _conditions(table: _Table) -> list[tuple[str, PlanWhen]]:
    if isinstance(table, LvClassTable):
        return [(f"classes[{i}].when", c.when) for i, c in enumerate(table.classes)]
    if isinstance(table, ReviewTable):
        return [(f"rules[{i}].when", r.when) for i, r in enumerate(table.rules)]
    if isinstance(table, InvestmentTable):
        return [(f"rules[{i}].when", r.when) for i, r in enumerate(table.rules) if r.when]
    return []


def _table_codes(
    table: _Table, flags: dict[str, str]
) -> list[tuple[str, list[str], frozenset[str] | tuple[str, ...]]]:
    if isinstance(table, AccessTable):
        rungs = [r.voltage for r in (*table.ladder, *table.dg_ladder)]
        return [
            ("ladder", rungs, VOLTAGES),
            ("dg_business_types", table.dg_business_types, BUSINESS_TYPES),
            ("single_phase_business_types", table.single_phase_business_types, BUSINESS_TYPES),
        ]
    if isinstance(table, LvClassTable):
        out: list[tuple[str, list[str], frozenset[str] | tuple[str, ...]]] = []
        for i, c in enumerate(table.classes):
            voluntary = [c.voluntary_hv_flag] if c.voluntary_hv_flag else []
            out.append(
                (f"classes[{i}].exclude_flags", c.exclude_flags + voluntary, frozenset(flags))
            )
            out.append(
                (f"classes[{i}].exclude_business_types", c.exclude_business_types, BUSINESS_TYPES)
            )
        return out
    if isinstance(table, WorksTable):
        kinds = [*table.connection_works, *table.line_works]
        kinds += [k for k in table.works_35kv_up if k != "default"]
        types = [*table.connection_works.values(), *table.line_works.values()]
        types += [*table.works_35kv_up.values(), table.lv_type, table.lv_small_micro_type]
        return [("point kinds", kinds, POINT_KINDS), ("works types", types, SUPPORTING_WORKS_TYPES)]
    if isinstance(table, OutageTable):
        kinds = table.live_line_point_kinds + table.own_bay_point_kinds
        return [
            ("live_line_voltages", table.live_line_voltages, VOLTAGES),
            ("point kinds", kinds, POINT_KINDS),
        ]
    if isinstance(table, RoutingTable):
        return [("max_route_m", list(table.max_route_m), VOLTAGES)]
    return []


def check_plan_tables(policy: ResolvedPolicy) -> None:
    """Validate every plan table the policy has (the loader calls this on each unit)."""
    for name, model in TABLES.items():
        data = policy.params.get(name)
        if data is not None:
            _check_codes(name, _parse(name, model, data), policy.application_flags)


def plan_rules(policy: ResolvedPolicy) -> PlanRules:
    """The plan tables of `policy`; refuses (PlanRulesError) when one is missing.

    Parsed at each call: a caller that plans many times with one policy keeps the result and
    passes it to `plan(..., rules=...)` (no process-wide cache)."""
    return _parse_all(policy)


def _parse_all(policy: ResolvedPolicy) -> PlanRules:
    parsed: dict[str, Any] = {}
    for name, model in TABLES.items():
        data = policy.params.get(name)
        if data is None:
            raise PlanRulesError(f"params.{name}: the unit {policy.unit!r} has no such table")
        parsed[_FIELDS[name]] = _parse(name, model, data)
    return PlanRules(**parsed)
