"""Whether a rule's condition (`when`) holds for an application.

`Facts` normalises the profile once per evaluation: its business types with the pack's aliases
(`treat_as`) applied, its acceptance date in the policy's zone, and the key its rule selection
depends on.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from policies.profile import ApplicationProfile
from policies.schema import Condition, ResolvedPolicy

# The one business type that also counts as another when the profile says small/micro.
_SMALL_MICRO_TYPE = "lv_small_micro"


class Facts:
    """The application's attributes, normalised once per evaluation."""

    __slots__ = (
        "accepted_on",
        "app",
        "business_types",
        "flags",
        "key",
        "small_micro",
    )

    def __init__(self, policy: ResolvedPolicy, app: ApplicationProfile, tz: tzinfo) -> None:
        self.app = app
        self.accepted_on = app.accepted_at.astimezone(tz).date()
        small_micro = app.small_micro or app.business_type == _SMALL_MICRO_TYPE
        self.small_micro = small_micro
        types = {app.business_type}
        if app.business_type == "lv_non_residential" and small_micro:
            types.add(_SMALL_MICRO_TYPE)
        self.flags = frozenset(app.flags)
        self.business_types = frozenset(types)
        # Aliases are applied after the base set exists, so their `when` can test it.
        for rule in policy.business_type_rules:
            applies = rule.business_type in types and rule.in_force(self.accepted_on)
            if applies and (rule.when is None or self.matches(rule.when)):
                assert rule.treat_as is not None
                types.add(rule.treat_as)
        self.business_types = frozenset(types)
        self.key = self._key()

    def _key(self) -> tuple[Any, ...]:
        """Everything but the acceptance date that decides which rules apply."""
        app = self.app
        return (
            tuple(sorted(self.business_types)),
            app.voltage,
            app.capacity_kva,
            app.capacity_kw,
            app.dual_power,
            app.important,
            self.small_micro,
            app.area,
            app.grid_works,
            app.channel,
            app.dg_variant,
            app.meter_change,
            app.outside_line_m,
            self.flags,
        )

    def matches(self, c: Condition) -> bool:
        """Every field `c` gives holds (and one of its `any_of`, if given)."""
        return (
            self._kind_matches(c)
            and self._grid_works_match(c)
            and self._sizes_match(c)
            and self._flags_match(c)
            and (c.any_of is None or any(self.matches(s) for s in c.any_of))
        )

    def _kind_matches(self, c: Condition) -> bool:
        app = self.app
        if c.business_types is not None and not self.business_types.intersection(c.business_types):
            return False
        if c.voltages is not None and app.voltage not in c.voltages:
            return False
        if c.dual_power is not None and c.dual_power != app.dual_power:
            return False
        if c.important is not None and c.important != app.important:
            return False
        if c.small_micro is not None and c.small_micro != self.small_micro:
            return False
        if c.area is not None and c.area != app.area:
            return False
        if c.channels is not None and app.channel not in c.channels:
            return False
        if c.dg_variants is not None and app.dg_variant not in c.dg_variants:
            return False
        return c.meter_change is None or c.meter_change == bool(app.meter_change)

    def _grid_works_match(self, c: Condition) -> bool:
        gw = self.app.grid_works
        if c.grid_works is not None and c.grid_works != (gw is not None):
            return False
        if c.grid_works_types is not None and (gw is None or gw.type not in c.grid_works_types):
            return False
        if c.grid_works_voltages is not None:
            gw_voltage = (gw.voltage or self.app.voltage) if gw is not None else None
            if gw_voltage not in c.grid_works_voltages:
                return False
        return True

    def _sizes_match(self, c: Condition) -> bool:
        app = self.app
        return (
            _in_range(app.capacity_kva, c.capacity_kva_gt, c.capacity_kva_le)
            and _in_range(app.capacity_kw, c.capacity_kw_gt, c.capacity_kw_le)
            and _in_range(app.outside_line_m, c.outside_line_m_gt, c.outside_line_m_le)
        )

    def _flags_match(self, c: Condition) -> bool:
        if c.flags is not None and not self.flags.issuperset(c.flags):
            return False
        return not (c.not_flags is not None and self.flags.intersection(c.not_flags))


def _in_range(value: float | None, above: float | None, up_to: float | None) -> bool:
    """`above < value <= up_to` for the bounds given; an unknown value meets no bound."""
    if above is not None and (value is None or not value > above):
        return False
    return up_to is None or (value is not None and value <= up_to)
