"""Pure helpers on policy rules, shared by the loader (validation) and the engine."""

from __future__ import annotations

from typing import Any

from policies.schema import Duration, LeadRule, MonitorRule, VariantRule


def same_clock(a: Duration, b: Duration) -> bool:
    return a.working == b.working


def default_lead(
    rules: list[LeadRule] | None, limit: Duration, day_hours: float
) -> Duration | None:
    """The text rule's lead for a limit (e.g. Henan: 1 day → 6 h, 2-3 days → 1 day, more → 2)."""
    for rule in rules or []:
        if rule.limit_le is None:
            return rule.lead
        if not same_clock(rule.limit_le, limit):
            continue
        if limit.business_hours(day_hours) <= rule.limit_le.business_hours(day_hours):
            return rule.lead
    return None


_CASE_FIELDS = (
    "label",
    "provincial",
    "national",
    "blue_lead",
    "orange_lead",
    "levels",
    "result",
    "recipients",
)


def apply_case(base: MonitorRule, case: MonitorRule | VariantRule) -> MonitorRule:
    """The monitor with one variant's limit fields applied (`base` itself for the base case).

    Uses explicit values (and the variant's `clear`), never pydantic's fields-set bookkeeping,
    so a policy rebuilt from its JSON snapshot behaves identically.
    """
    if case is base:
        return base
    update: dict[str, Any] = {}
    for name in _CASE_FIELDS:
        value = getattr(case, name)
        if value is not None:
            update[name] = value
    for name in case.clear or []:
        if name in _CASE_FIELDS:
            update[name] = None
    return base.model_copy(update=update) if update else base
