"""A monitor rule as it applies to one kind of application: its variants applied, its warning
leads and levels settled, and everything that does not depend on events computed in advance.

Levels (DESIGN.md §3): blue = provincial − blue lead, yellow = provincial, orange = national −
orange lead, red = national.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from policies.codes import LEVELS, NOTICE_CODES
from policies.engine.matching import Facts
from policies.engine.models import Threshold
from policies.rules import apply_case, default_lead
from policies.schema import Duration, MonitorRule, ResolvedPolicy, Source

#: (level, its amount of counted time in the limit's unit, the same as a timedelta)
Target = tuple[str, Duration, timedelta]


class Plan:
    """A monitor rule with its variants applied, leads/levels settled and everything that does
    not depend on events precomputed (a rule index keeps it, so this runs once per application
    kind).
    """

    __slots__ = (
        "blue_lead",
        "flags",
        "levels",
        "limit_unit",
        "nat_td",
        "notes",
        "orange_lead",
        "out_fields",
        "pending_thresholds",
        "prov_td",
        "recipients",
        "rule",
        "source",
        "sources",
        "targets",
    )

    def __init__(
        self,
        policy: ResolvedPolicy,
        rule: MonitorRule,
        levels: Sequence[str],
        leads: tuple[Duration | None, Duration | None],
        cited: tuple[list[Source], list[str], list[str]],
    ) -> None:
        day_hours = policy.settings.day_hours
        sources, self.flags, self.notes = cited
        self.rule = rule
        self.levels: list[str] = list(levels)
        self.blue_lead, self.orange_lead = leads
        self.sources = [s.cite() for s in sources]
        main = rule.sources[-1] if rule.sources else rule.source
        self.source = main.cite() if main else ""
        prov, nat = rule.provincial, rule.national
        self.limit_unit = _unit_of(prov, nat)
        self.prov_td = prov.to_timedelta(day_hours) if prov is not None else None
        self.nat_td = nat.to_timedelta(day_hours) if nat is not None else None
        coord = bool(rule.coordination)
        self.recipients = {
            lv: _recipients(policy, rule.recipients, lv, coord) for lv in self.levels
        }
        self.targets = _targets(rule, self.levels, leads, day_hours)
        # The fields of the monitor's output that no event changes, shared by every evaluation
        # of this plan, like its pending thresholds (outputs are read-only by contract).
        self.out_fields: dict[str, Any] = {
            "id": rule.id,
            "code": rule.code,
            "label": rule.label,
            "provincial_limit": prov,
            "national_limit": nat,
            "result": rule.result,
            "recipients": self.recipients,
            "coordination": coord,
            "source": self.source,
            "sources": self.sources,
            "flags": self.flags,
            "notes": self.notes,
        }
        self.pending_thresholds = [
            Threshold(
                level=lv, due_at=None, after=amt, reached=False, recipients=self.recipients[lv]
            )
            for lv, amt, _ in self.targets
        ]


def plan_for(policy: ResolvedPolicy, rule: MonitorRule, facts: Facts) -> Plan:
    """`rule` as it applies to the application of `facts`."""
    eff, cited = _apply_variants(rule, facts)
    day_hours = policy.settings.day_hours
    wr = policy.warning_rules
    blue_lead = eff.blue_lead
    if blue_lead is None and eff.provincial is not None:
        blue_lead = default_lead(wr.blue, eff.provincial, day_hours)
    orange_lead = eff.orange_lead
    if orange_lead is None and eff.national is not None:
        if eff.code in NOTICE_CODES and wr.notice_orange is not None:
            orange_lead = wr.notice_orange
        else:
            orange_lead = default_lead(wr.orange, eff.national, day_hours)
    levels = _levels(policy, eff, blue_lead, orange_lead)
    return Plan(policy, eff, levels, (blue_lead, orange_lead), cited)


def _apply_variants(
    rule: MonitorRule, facts: Facts
) -> tuple[MonitorRule, tuple[list[Source], list[str], list[str]]]:
    """Every variant in force whose `when` holds, applied in order; with the clauses, the
    inconsistency flags and the notes they add."""
    sources = list(rule.sources or ([rule.source] if rule.source else []))
    flags = list(rule.flags or [])
    notes = list(rule.notes or [])
    eff = rule
    for variant in rule.variants or []:
        if not variant.in_force(facts.accepted_on):
            continue
        if variant.when is not None and not facts.matches(variant.when):
            continue
        eff = apply_case(eff, variant)
        if variant.source is not None and variant.source not in sources:
            sources.append(variant.source)
        flags += [f for f in variant.flags or [] if f not in flags]
        notes += variant.notes or []
    return eff, (sources, flags, notes)


def _levels(
    policy: ResolvedPolicy,
    eff: MonitorRule,
    blue_lead: Duration | None,
    orange_lead: Duration | None,
) -> list[str]:
    """The rule's levels (derived from its limits when it names none), less those it lacks a
    limit or lead for, in the order of LEVELS."""
    wr = policy.warning_rules
    prov, nat = eff.provincial, eff.national
    if eff.levels is not None:
        levels = list(eff.levels)
    else:
        levels = []
        equal = (
            prov is not None
            and nat is not None
            and prov.unit == nat.unit
            and prov.amount == nat.amount
        )
        if equal and wr.equal_limits_levels is not None:
            levels = list(wr.equal_limits_levels)
        else:
            if prov is not None:
                levels += ["blue", "yellow"]
            if nat is not None:
                levels += ["orange", "red"]
    usable = {
        "blue": prov is not None and blue_lead is not None,
        "yellow": prov is not None,
        "orange": nat is not None and orange_lead is not None,
        "red": nat is not None,
    }
    return [lv for lv in LEVELS if lv in levels and usable[lv]]


def _targets(
    rule: MonitorRule,
    levels: list[str],
    leads: tuple[Duration | None, Duration | None],
    day_hours: float,
) -> list[Target]:
    """Each level's amount of counted time."""
    prov, nat = rule.provincial, rule.national
    blue_lead, orange_lead = leads
    targets: list[Target] = []
    for lv in levels:
        amount: Duration | None = None
        if lv == "blue" and prov is not None and blue_lead is not None:
            amount = _minus(prov, blue_lead, day_hours)
        elif lv == "yellow":
            amount = prov
        elif lv == "orange" and nat is not None and orange_lead is not None:
            amount = _minus(nat, orange_lead, day_hours)
        elif lv == "red":
            amount = nat
        if amount is not None:
            targets.append((lv, amount, amount.to_timedelta(day_hours)))
    return targets


def _recipients(policy: ResolvedPolicy, profile: str | None, level: str, coord: bool) -> list[str]:
    if profile is None:
        return []
    prof = policy.recipient_profiles.get(profile)
    if prof is None:
        return []
    lvl = prof.for_level(level)
    if lvl is None:
        return []
    roles = list(lvl.roles)
    if coord:
        roles += [r for r in lvl.coordination_roles if r not in roles]
    return roles


def _unit_of(*limits: Duration | None) -> str:
    for lim in limits:
        if lim is not None:
            return lim.unit
    return "workday"


def _minus(limit: Duration, lead: Duration, day_hours: float) -> Duration:
    """limit − lead, in the limit's unit where it divides evenly, else in hours of that clock."""
    hours = limit.business_hours(day_hours) - lead.business_hours(day_hours)
    if limit.unit == lead.unit:
        amount = limit.amount - lead.amount
        return Duration(amount=amount, unit=limit.unit)
    value: float = hours
    amount = int(value) if value == int(value) else value
    return Duration(amount=amount, unit="workhour" if limit.working else "hour")
