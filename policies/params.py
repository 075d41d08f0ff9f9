"""Readers for a resolved policy's parameter tables (pure: no I/O).

The tables are data in the packs (`[params.<name>]`); these functions are how code asks them a
question, so callers never depend on a table's layout.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from policies.schema import Duration, ResolvedPolicy, Source

_LV = frozenset({"220V", "380V"})


class Answer(BaseModel):
    """A value from a parameter table and the clause it comes from."""

    value: Any
    source: str


def _table(policy: ResolvedPolicy, name: str) -> dict[str, Any] | None:
    return policy.params.get(name)


def _cite(table: dict[str, Any]) -> str:
    return Source.model_validate(table["source"]).cite()


def supporting_works_limit(policy: ResolvedPolicy, works_type: str, voltage: str) -> Answer | None:
    """配套工程建设时限: working days for a supporting-works type at a voltage, if tabled."""
    table = _table(policy, "supporting_works_limits")
    if table is None:
        return None
    row = table.get("380V" if voltage in _LV else voltage)
    if not isinstance(row, dict) or works_type not in row:
        return None
    unit = table.get("unit", "workday")
    return Answer(value=Duration(amount=row[works_type], unit=unit), source=_cite(table))


def admin_approval(
    policy: ResolvedPolicy, voltage: str | None, outside_line_m: float | None
) -> Answer | None:
    """Whether outside-line works need administrative approval, and its limit.

    Value: {"required": bool, "limit": Duration | None, "mode": str}. None if the unit's
    policy has no approval table.
    """
    table = _table(policy, "admin_approval")
    if table is None:
        return None
    low_voltage = voltage is None or voltage in _LV
    length = outside_line_m or 0.0
    exempt_max = float(table.get("exempt_hv_max_m", 0))
    inclusive = bool(table.get("exempt_hv_inclusive", True))
    if low_voltage and table.get("exempt_all_low_voltage"):
        required = False
    else:
        required = length > exempt_max if inclusive else length >= exempt_max
    limit = table.get("total_limit")
    value = {
        "required": required,
        "limit": Duration.model_validate(limit) if required and limit else None,
        "mode": table.get("above_limit_mode" if required else "exemption_mode", ""),
    }
    return Answer(value=value, source=_cite(table))


def outage_plan_tier(
    policy: ResolvedPolicy, voltage: str, other_customers_affected: bool, live_line: bool
) -> Answer | None:
    """停送电计划分级: the plan tier an energization goes into (docs/glossary.md outage-plan
    tiers)."""
    table = _table(policy, "outage_plan_tiers")
    if table is None:
        return None
    for tier in table.get("order", []):
        row = table.get(tier)
        if not isinstance(row, dict):
            continue
        requires = row.get("requires")
        if requires == "no_outage" and not live_line:
            continue
        if requires == "no_other_customer_outage" and other_customers_affected:
            continue
        voltages = row.get("voltages")
        if voltages is not None and voltage not in voltages:
            continue
        return Answer(value=tier, source=_cite(table))
    return None


def application_documents(policy: ResolvedPolicy, business_type: str) -> Answer | None:
    """申请资料清单: the documents an application of this type needs."""
    table = _table(policy, "application_documents")
    if table is None or business_type not in table:
        return None
    return Answer(value=list(table[business_type]), source=_cite(table))


def warning_notifications(policy: ResolvedPolicy) -> Answer | None:
    """SMS send times, send window, de-duplication key and refresh times of warnings."""
    table = _table(policy, "warning_notifications")
    if table is None:
        return None
    value = {k: v for k, v in table.items() if k != "source"}
    return Answer(value=value, source=_cite(table))
