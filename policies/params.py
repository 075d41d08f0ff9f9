"""Readers for a resolved policy's parameter tables (pure: no I/O).

The tables are data in the packs (`[params.<name>]`); these functions are how code asks them a
question, so callers never depend on a table's layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
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
    """配套工程建设时限: working days for a supporting-works type at a voltage, if tabled.

    A row may give one limit for every type (`all`, Shanghai's 10 kV 30 days)."""
    table = _table(policy, "supporting_works_limits")
    if table is None:
        return None
    row = table.get("380V" if voltage in _LV else voltage)
    if not isinstance(row, dict):
        return None
    amount = row.get(works_type, row.get("all"))
    if amount is None:
        return None
    unit = table.get("unit", "workday")
    return Answer(value=Duration(amount=amount, unit=unit), source=_cite(table))


def admin_approval(
    policy: ResolvedPolicy,
    voltage: str | None,
    outside_line_m: float | None,
    business_type: str | None = None,
    flags: Sequence[str] = (),
    on: date | None = None,
) -> Answer | None:
    """Whether outside-line works need administrative approval, and its limit.

    Value: {"required": bool, "limit": Duration | None, "mode": str}. None if the unit's
    policy has no approval table. The tables of the packs differ in shape:
    - an exemption up to a length (`exempt_hv_max_m` for high voltage with all low voltage
      exempt: Sanmenxia; `exempt_max_m`: Huangchuan, Yantai), limited to some business types
      (`exempt_business_types`) or lifted by a flag (`exception_flag`, Yantai's main roads);
    - no exemption at all (Jilin, Shanghai): approval whenever there is an outside line;
    - a limit for all (`total_limit`) or per voltage class (`lv_limit` / `hv_limit`);
    - `in_force_from`: before it, the unit's own exemption and limit do not apply.
    """
    table = _table(policy, "admin_approval")
    if table is None:
        return None
    length = outside_line_m or 0.0
    in_force = on is None or _in_force(table, on)
    required = length > 0 and not (
        in_force and _exempt(table, voltage, length, business_type, flags)
    )
    limit = _approval_limit(table, voltage) if required and in_force else None
    value = {
        "required": required,
        "limit": limit,
        "mode": table.get("above_limit_mode" if required else "exemption_mode", ""),
    }
    return Answer(value=value, source=_cite(table))


def _in_force(table: dict[str, Any], on: date) -> bool:
    since = table.get("in_force_from")
    if isinstance(since, str):  # a policy read back from JSON (the workflow's snapshot)
        since = date.fromisoformat(since)
    return not isinstance(since, date) or on >= since


def _exempt(
    table: dict[str, Any],
    voltage: str | None,
    length: float,
    business_type: str | None,
    flags: Sequence[str],
) -> bool:
    low_voltage = voltage is None or voltage in _LV
    if low_voltage and table.get("exempt_all_low_voltage"):
        return True
    if "exempt_hv_max_m" in table:
        exempt_max, inclusive = table["exempt_hv_max_m"], table.get("exempt_hv_inclusive", True)
    elif "exempt_max_m" in table:
        exempt_max, inclusive = table["exempt_max_m"], table.get("exempt_inclusive", True)
    else:
        return False
    types = table.get("exempt_business_types")
    if types is not None and business_type is not None and business_type not in types:
        return False
    exception = table.get("exception_flag")
    if exception is not None and exception in flags:
        return False
    return length <= float(exempt_max) if inclusive else length < float(exempt_max)


def _approval_limit(table: dict[str, Any], voltage: str | None) -> Duration | None:
    low_voltage = voltage is None or voltage in _LV
    keys = ["total_limit", "lv_limit" if low_voltage else "hv_limit"]
    hv_voltages = table.get("hv_limit_voltages")
    if not low_voltage and hv_voltages is not None and voltage not in hv_voltages:
        keys.remove("hv_limit")
    for key in keys:
        limit = table.get(key)
        if isinstance(limit, dict):
            return Duration.model_validate(limit)
    return None


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


def reserve_follow_up_every(policy: ResolvedPolicy) -> Answer | None:
    """How often a reserve project's customer manager is reminded to follow it up (储备项目
    跟踪), as a Duration: counted from the last follow-up, or from the reservation."""
    table = _table(policy, "reserve_projects")
    if table is None or not isinstance(table.get("follow_up_every"), dict):
        return None
    return Answer(value=Duration.model_validate(table["follow_up_every"]), source=_cite(table))


def proactive_registration(policy: ResolvedPolicy, voltage: str | None) -> Answer | None:
    """主动办电 from a business-registration push: how long a proposed application may wait
    for its customer manager's confirmation before a reminder (`confirm_within`, a Duration),
    and the stages the customer goes through (`stages`, at the voltage's class)."""
    table = _table(policy, "proactive_registrations")
    if table is None or not isinstance(table.get("confirm_within"), dict):
        return None
    low_voltage = voltage is None or voltage in _LV
    value = {
        "confirm_within": Duration.model_validate(table["confirm_within"]),
        "stages": list(table.get("lv_stages" if low_voltage else "hv_stages", [])),
    }
    return Answer(value=value, source=_cite(table))
