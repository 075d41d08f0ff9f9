"""Checks on policy packs: each pack as written (every entry cites its clause) and the merged
chain (complete rules, known codes and events, leads shorter than their limits, references that
resolve). Every refusal is a `PolicyError` naming the file, the field path and the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from policies.codes import BUSINESS_TYPES, EVENT_SUFFIXES, LEVELS
from policies.errors import PolicyError
from policies.rules import apply_case, same_clock
from policies.schema import (
    Condition,
    Duration,
    EventSpec,
    MonitorRule,
    PackFile,
    ResolvedPolicy,
    ResolvedSettings,
    Source,
    TooShortRule,
    VariantRule,
    known_event_codes,
    known_monitor_codes,
)

# ---------------------------------------------------------------------------- one pack as written


def check_param_source(rel: str, key: str, table: dict[str, Any]) -> None:
    src = table.get("source")
    if not isinstance(src, dict):
        raise PolicyError(f"{rel}: params.{key}.source: every parameter table needs a source")
    try:
        Source.model_validate(src)
    except ValidationError as exc:
        raise PolicyError(f"{rel}: params.{key}.source: {exc.errors()[0]['msg']}") from None


def check_pack_sources(rel: str, pack: PackFile) -> None:
    """Every entry a pack writes cites where it comes from (a child's patch too)."""
    groups: list[tuple[str, Iterable[Any]]] = [
        ("business_type_rules", pack.business_type_rules),
        ("stages", pack.stages),
        ("monitors", pack.monitors),
        ("too_short", pack.too_short),
    ]
    for group, rules in groups:
        for i, rule in enumerate(rules):
            if rule.source is None:
                raise PolicyError(f"{rel}: {group}[{i}] (id {rule.id!r}).source: missing source")
            if isinstance(rule, MonitorRule):
                _check_variant_sources(rel, f"{group}[{i}] (id {rule.id!r})", rule)
    if pack.warning_rules is not None and pack.warning_rules.source is None:
        raise PolicyError(f"{rel}: warning_rules.source: missing source")
    if pack.settings is not None and pack.settings.source is None:
        raise PolicyError(f"{rel}: settings.source: missing source")


def _check_variant_sources(rel: str, where: str, rule: MonitorRule) -> None:
    for j, v in enumerate(rule.variants or []):
        if v.source is None:
            raise PolicyError(f"{rel}: {where}.variants[{j}] (id {v.id!r}).source: missing source")


# ---------------------------------------------------------------------------- settings


def resolve_settings(rel: str, settings: dict[str, Any]) -> ResolvedSettings:
    """The chain's merged `[settings]`, complete and consistent (`rel`: the unit's own file)."""
    for key in ("timezone", "calendar_region", "clock", "day_hours"):
        if settings.get(key) is None:
            raise PolicyError(f"{rel}: settings.{key}: no pack in the chain sets it")
    _check_clock(rel, settings)
    return ResolvedSettings(
        timezone=settings["timezone"],
        calendar_region=settings["calendar_region"],
        clock=settings["clock"],
        day_hours=settings["day_hours"],
        office_periods=settings.get("office_periods") or [],
    )


def _check_clock(rel: str, settings: dict[str, Any]) -> None:
    """The office-hours clock needs its periods, and a working day must be their total length."""
    periods: list[str] = settings.get("office_periods") or []
    if settings["clock"] == "working_day":
        if settings["day_hours"] != 24:
            raise PolicyError(
                f"{rel}: settings.day_hours: the working-day clock has 24-hour working days "
                f"(DESIGN.md §3), not {settings['day_hours']}"
            )
        return
    if not periods:
        raise PolicyError(f"{rel}: settings.office_periods: the office-hours clock needs periods")
    total = sum(_period_hours(rel, i, text) for i, text in enumerate(periods))
    if abs(total - settings["day_hours"]) > 1e-9:
        raise PolicyError(
            f"{rel}: settings.day_hours: {settings['day_hours']} h but the office periods add up "
            f"to {total} h"
        )


def _period_hours(rel: str, i: int, text: str) -> float:
    try:
        start, end = text.split("-", 1)
        sh, sm = (int(x) for x in start.split(":"))
        eh, em = (int(x) for x in end.split(":"))
    except ValueError:
        raise PolicyError(
            f"{rel}: settings.office_periods[{i}]: {text!r} is not HH:MM-HH:MM"
        ) from None
    length = (eh * 60 + em - sh * 60 - sm) / 60
    if length <= 0:
        raise PolicyError(f"{rel}: settings.office_periods[{i}]: {text!r} ends before it starts")
    return length


# ---------------------------------------------------------------------------- the merged chain


class _Checks:
    """What the checks of one merged policy share: its codes, references and file origins."""

    def __init__(
        self, policy: ResolvedPolicy, files: dict[str, str], touched: dict[tuple[str, str], str]
    ) -> None:
        self.policy = policy
        self.own = files[policy.unit]
        self.touched = touched
        self.mcodes = known_monitor_codes(policy.codes)
        self.ecodes = known_event_codes(policy.codes)
        self.aliases = policy.event_aliases
        self.flags = policy.application_flags
        self.inc_ids = {i.id for i in policy.inconsistencies}

    def origin(self, rule_id: str, group: str) -> str:
        # The most specific file that touched the rule is where a fix belongs.
        return f"{self.touched.get((group, rule_id), self.own)}: {group} (id {rule_id!r})"

    def event(self, name: str, where: str) -> None:
        code, _, suffix = name.rpartition(".")
        code = self.aliases.get(code, code)
        if suffix not in EVENT_SUFFIXES or code not in self.ecodes:
            raise PolicyError(
                f"{where}: unknown event {name!r}: expected <code>.started or <code>.completed "
                "with a stage or notice code from docs/glossary.md (or the pack's extra_codes)"
            )

    def spec(self, spec: EventSpec, where: str) -> None:
        for name in spec.events:
            self.event(name, where)

    def condition(self, cond: Condition | None, where: str) -> None:
        _check_condition(cond, where, self.flags)

    def recipients(self, profile: str | None, where: str) -> None:
        if profile is not None and profile not in self.policy.recipient_profiles:
            raise PolicyError(f"{where}.recipients: unknown recipient profile {profile!r}")

    def inconsistency_flags(self, flags: list[str] | None, where: str) -> None:
        for flag in flags or []:
            if flag not in self.inc_ids:
                raise PolicyError(f"{where}.flags: no inconsistency with id {flag!r}")


def validate_policy(
    policy: ResolvedPolicy, files: dict[str, str], touched: dict[tuple[str, str], str] | None = None
) -> None:
    """Checks on the merged chain: completeness, codes, leads vs limits, references."""
    checks = _Checks(policy, files, touched or {})
    for rule in policy.business_type_rules:
        where = checks.origin(rule.id, "business_type_rules")
        for name in ("business_type", "treat_as"):
            value = getattr(rule, name)
            if value not in BUSINESS_TYPES:
                raise PolicyError(f"{where}.{name}: unknown business type {value!r}")
        checks.condition(rule.when, where)
    for srule in policy.stages:
        where = checks.origin(srule.id, "stages")
        if srule.stage is None or srule.stage not in checks.ecodes:
            raise PolicyError(f"{where}.stage: unknown stage code {srule.stage!r}")
        checks.condition(srule.when, where)
    for m in policy.monitors:
        _check_monitor(checks, m)
    for t in policy.too_short:
        _check_too_short(checks, t)
    rule_ids = {m.id for m in policy.monitors} | {t.id for t in policy.too_short}
    for inc in policy.inconsistencies:
        for rid in inc.rules:
            if rid not in rule_ids:
                raise PolicyError(
                    f"{checks.own}: inconsistencies (id {inc.id!r}).rules: no monitor or "
                    f"too-short rule with id {rid!r}"
                )


def _check_monitor(checks: _Checks, m: MonitorRule) -> None:
    where = checks.origin(m.id, "monitors")
    if m.code is None:
        raise PolicyError(
            f"{where}.code: missing (a stage, notice or full_process code); no parent pack "
            "has a rule with this id to patch"
        )
    if m.code not in checks.mcodes:
        raise PolicyError(
            f"{where}.code: unknown code {m.code!r}: use a docs/glossary.md stage or notice code, "
            "full_process, or declare it in pack.extra_codes"
        )
    if m.start is None:
        raise PolicyError(f"{where}.start: missing start condition")
    if m.stop is None:
        raise PolicyError(f"{where}.stop: missing stop condition")
    checks.spec(m.start, f"{where}.start")
    checks.spec(m.stop, f"{where}.stop")
    for i, p in enumerate(m.pauses or []):
        checks.event(p.from_event, f"{where}.pauses[{i}].from_event")
        checks.event(p.to_event, f"{where}.pauses[{i}].to_event")
    checks.condition(m.when, where)
    checks.recipients(m.recipients, where)
    checks.inconsistency_flags(m.flags, where)
    cases: list[tuple[str, MonitorRule | VariantRule]] = [(where, m)]
    for v in m.variants or []:
        vwhere = f"{where}.variants (id {v.id!r})"
        checks.condition(v.when, vwhere)
        checks.inconsistency_flags(v.flags, vwhere)
        checks.recipients(v.recipients, vwhere)
        cases.append((vwhere, v))
    day_hours = checks.policy.settings.day_hours
    for cwhere, case in cases:
        eff = apply_case(m, case)
        _check_lead(eff.blue_lead, eff.provincial, day_hours, "blue", cwhere)
        _check_lead(eff.orange_lead, eff.national, day_hours, "orange", cwhere)
        for level in eff.levels or []:
            if level not in LEVELS:
                raise PolicyError(f"{cwhere}.levels: unknown level {level!r}")


def _check_too_short(checks: _Checks, t: TooShortRule) -> None:
    where = checks.origin(t.id, "too_short")
    if t.code is None or t.code not in checks.mcodes:
        raise PolicyError(f"{where}.code: unknown or missing code {t.code!r}")
    if t.start is None or t.stop is None:
        raise PolicyError(f"{where}: start and stop are required")
    checks.spec(t.start, f"{where}.start")
    checks.spec(t.stop, f"{where}.stop")
    if t.provincial is None and t.national is None:
        raise PolicyError(f"{where}: give a provincial or national bound")
    if t.inclusive is None:
        raise PolicyError(f"{where}.inclusive: say whether the bound is ≤ (true) or < (false)")
    if t.result is None:
        raise PolicyError(f"{where}.result: missing")
    checks.condition(t.when, where)


def _check_condition(cond: Condition | None, where: str, flags: dict[str, str]) -> None:
    if cond is None:
        return
    bad = [b for b in cond.business_types or [] if b not in BUSINESS_TYPES]
    if bad:
        raise PolicyError(f"{where}.when.business_types: unknown business type {bad!r}")
    for name in ("flags", "not_flags"):
        undeclared = [f for f in getattr(cond, name) or [] if f not in flags]
        if undeclared:
            raise PolicyError(
                f"{where}.when.{name}: undeclared application flag {undeclared!r}; declare it in "
                "[pack] application_flags of this pack or an ancestor"
            )
    for sub in cond.any_of or []:
        _check_condition(sub, f"{where}.when.any_of", flags)


def _check_lead(
    lead: Duration | None, limit: Duration | None, day_hours: float, what: str, where: str
) -> None:
    if lead is None or limit is None:
        return
    if not same_clock(lead, limit):
        raise PolicyError(
            f"{where}.{what}_lead: {lead.amount} {lead.unit} and the limit {limit.amount} "
            f"{limit.unit} count on different clocks (working vs wall-clock)"
        )
    if lead.business_hours(day_hours) >= limit.business_hours(day_hours):
        tier = "provincial" if what == "blue" else "national"
        raise PolicyError(
            f"{where}.{what}_lead: {what} lead {lead.amount} {lead.unit} is not shorter than the "
            f"{tier} limit {limit.amount} {limit.unit}"
        )
