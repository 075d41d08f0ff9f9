"""Which of an application's attributes go together: the checks a request passes before any
rule is selected, so an impossible application (high-voltage without a voltage, a residential
connection at 110 kV) is refused with the field at fault instead of being timed by no rule.

Each check reads what the packs and the glossary already say (cited beside it); the same
checks are written as JSON Schema (`json_schema`) so the OpenAPI tells clients, and fuzzers,
which combinations are valid. Pure data and functions: no pack is read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from policies.codes import SUPPORTING_WORKS_TYPES, VOLTAGES

LOW_VOLTAGES: tuple[str, ...] = ("220V", "380V")
HIGH_VOLTAGES: tuple[str, ...] = tuple(
    v for v in ("10kV", "20kV", "35kV", "66kV", "110kV", "220kV") if v in VOLTAGES
)
#: Business types connected below 1 kV: the glossary's 低压 types, residential changes, and
#: the types the national pack times as 低压 whatever their size (`business_type_rules`:
#: charging_residential, base_station_5g, irrigation_well → lv_*).
LOW_VOLTAGE_TYPES: frozenset[str] = frozenset(
    {
        "lv_residential",
        "lv_non_residential",
        "lv_small_micro",
        "dg_lv",
        "charging_residential",
        "base_station_5g",
        "irrigation_well",
        "rename_residential",
        "transfer_residential",
        "tou_change_residential",
    }
)


@dataclass(frozen=True)
class VoltageRule:
    business_types: frozenset[str]
    allowed: tuple[str, ...]
    required: bool
    why: str


VOLTAGE_RULES: tuple[VoltageRule, ...] = (
    # Glossary: hv 高压新装/增容, "voltage given separately: 10kV ... 220kV"; the packs select
    # its every rule by voltage.
    VoltageRule(frozenset({"hv"}), HIGH_VOLTAGES, True, "a high-voltage connection"),
    # Glossary: dg_hv 10/35 kV 分布式光伏; the packs' dg_hv rules cover 10/20 kV and 35/66 kV.
    VoltageRule(
        frozenset({"dg_hv"}), ("10kV", "20kV", "35kV", "66kV"), True, "10-66 kV distributed PV"
    ),
    # National pack business_type_rules temporary.lv/.hv and charging_non_residential.lv/.hv:
    # the voltage decides which type they are timed as, so without one nothing times them.
    VoltageRule(
        frozenset({"temporary", "charging_non_residential"}),
        LOW_VOLTAGES + HIGH_VOLTAGES,
        True,
        "timed as low or high voltage by its voltage",
    ),
    VoltageRule(LOW_VOLTAGE_TYPES, LOW_VOLTAGES, False, "a low-voltage connection"),
)

#: Supporting-works types built at low voltage (配套工程建设时限表: `380V` row, lv and
#: lv_small_micro); every other type is a 10 kV and above works.
LOW_VOLTAGE_WORKS: frozenset[str] = frozenset({"lv", "lv_small_micro"})
_OTHER_WORKS = SUPPORTING_WORKS_TYPES - LOW_VOLTAGE_WORKS


class _Works(Protocol):
    type: str
    voltage: str | None


class _Profile(Protocol):
    business_type: str
    voltage: str | None

    @property
    def grid_works(self) -> Any: ...


def combination_errors(p: _Profile) -> list[tuple[str, str]]:
    """(field, reason) for every attribute that does not go with the others."""
    errors: list[tuple[str, str]] = []
    for rule in VOLTAGE_RULES:
        if p.business_type not in rule.business_types:
            continue
        if p.voltage is None and rule.required:
            errors.append(
                ("voltage", f"{p.business_type} is {rule.why}: give one of {_list(rule.allowed)}")
            )
        elif p.voltage is not None and p.voltage not in rule.allowed:
            errors.append(
                (
                    "voltage",
                    f"{p.business_type} is {rule.why}: {p.voltage} is not one of "
                    f"{_list(rule.allowed)}",
                )
            )
        break
    works: _Works | None = p.grid_works
    if works is not None and works.voltage is not None:
        low = works.type in LOW_VOLTAGE_WORKS
        allowed = LOW_VOLTAGES if low else HIGH_VOLTAGES
        if works.voltage not in allowed:
            errors.append(
                (
                    "grid_works.voltage",
                    f"{works.type} works are built at {_list(allowed)}, not {works.voltage}",
                )
            )
    return errors


def _list(values: Any) -> str:
    return ", ".join(values)


def json_schema() -> list[dict[str, Any]]:
    """The same checks as JSON Schema conditions, for an `allOf`."""
    out: list[dict[str, Any]] = []
    for rule in VOLTAGE_RULES:
        allowed: list[Any] = list(rule.allowed) if rule.required else [*rule.allowed, None]
        then: dict[str, Any] = {"properties": {"voltage": {"enum": allowed}}}
        if rule.required:
            then["required"] = ["voltage"]
        out.append({"if": _business_type_in(rule.business_types), "then": then})
    for low in (True, False):
        types = LOW_VOLTAGE_WORKS if low else _OTHER_WORKS
        voltages = LOW_VOLTAGES if low else HIGH_VOLTAGES
        out.append(
            {
                "if": {
                    "properties": {
                        "grid_works": {
                            "type": "object",
                            "properties": {"type": {"enum": sorted(types)}},
                            "required": ["type"],
                        }
                    },
                    "required": ["grid_works"],
                },
                "then": {
                    "properties": {
                        "grid_works": {"properties": {"voltage": {"enum": [*voltages, None]}}}
                    }
                },
            }
        )
    return out


def _business_type_in(types: frozenset[str]) -> dict[str, Any]:
    return {
        "properties": {"business_type": {"enum": sorted(types)}},
        "required": ["business_type"],
    }
