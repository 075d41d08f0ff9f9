"""The facts plan rules are matched against, and the record of what the engine decided.

`Facts` is the request seen through one policy: the acceptance date in the policy's zone, the
capacity in both kW and kVA, the area (or one hypothesis of it when the request gives none),
and, once decided, the access voltage. `Ledger` collects every decision with its clause and
every reason a person must look, in the order they were made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal, TypeVar

from policies.plans.plan import Decision, Reason
from policies.plans.request import PlanRequest
from policies.plans.rules import LV_VOLTAGES, Amount, PlanWhen

Area = Literal["urban", "rural"]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Facts:
    request: PlanRequest
    accepted_on: date
    capacity_kw: float
    capacity_kva: float
    area: Area | None
    access_voltage: str | None = None

    @property
    def small_micro(self) -> bool:
        return self.request.small_micro or self.request.business_type == "lv_small_micro"

    def capacity(self, unit: str) -> float:
        return self.capacity_kw if unit == "kW" else self.capacity_kva

    def within(self, limit: Amount) -> bool:
        return self.capacity(limit.unit) <= limit.amount

    def with_area(self, area: Area) -> Facts:
        return replace(self, area=area)

    def with_voltage(self, voltage: str) -> Facts:
        return replace(self, access_voltage=voltage)

    def matches(self, when: PlanWhen) -> bool:
        req = self.request
        flags = req.flags
        checks = (
            when.business_types is None or req.business_type in when.business_types,
            when.not_business_types is None or req.business_type not in when.not_business_types,
            when.small_micro is None or when.small_micro == self.small_micro,
            when.area is None or when.area == self.area,
            when.access is None or when.access == _access(self.access_voltage),
            when.access_voltages is None or self.access_voltage in when.access_voltages,
            when.flags is None or all(f in flags for f in when.flags),
            when.any_flags is None or any(f in flags for f in when.any_flags),
            when.not_flags is None or not any(f in flags for f in when.not_flags),
            when.dual_power is None or when.dual_power == req.dual_power,
            when.important is None or when.important == req.important,
            when.capacity_le is None or self.within(when.capacity_le),
            when.capacity_gt is None or not self.within(when.capacity_gt),
        )
        return all(checks)


def _access(voltage: str | None) -> str | None:
    if voltage is None:
        return None
    return "lv" if voltage in LV_VOLTAGES else "hv"


@dataclass(slots=True)
class Ledger:
    """Decisions and reasons, in the order the engine made them."""

    decisions: list[Decision] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)

    def decide(self, name: str, value: Any, source: str) -> None:
        # Built from the engine's own values: validating them again would only cost time.
        self.decisions.append(Decision.model_construct(field=name, value=value, source=source))

    def refer(self, code: str, detail: str, source: str) -> None:
        """A reason a person must decide (joint review, 专业联动); once per code and detail."""
        if not any(r.code == code and r.detail == detail for r in self.reasons):
            self.reasons.append(Reason(code=code, detail=detail, source=source))


def by_area(
    facts: Facts, decide: Callable[[Facts], _T], key: Callable[[_T], object]
) -> tuple[_T, bool]:
    """`decide` under the request's area; when the request gives none, under both readings.

    Returns the answer and whether it depends on the unknown area (the two answers' `key`
    differ). A dependent answer is the rural one (the lower thresholds), and the caller must ask
    a person: the engine never picks an area by itself.
    """
    if facts.area is not None:
        return decide(facts), False
    urban, rural = decide(facts.with_area("urban")), decide(facts.with_area("rural"))
    return rural, key(urban) != key(rural)
