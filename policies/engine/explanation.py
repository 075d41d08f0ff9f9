"""The rules in force for one application, explained (`python -m policies show`)."""

from __future__ import annotations

from pydantic import BaseModel

from policies.engine.selection import RuleIndex, index_for
from policies.profile import ApplicationProfile
from policies.schema import Duration, EventSpec, ResolvedPolicy, TooShortRule


class EffectiveRule(BaseModel):
    """A monitor rule as it applies to one application (for `python -m policies show`)."""

    id: str
    code: str
    label: str | None
    start: EventSpec
    stop: EventSpec
    pauses: list[str]
    provincial: Duration | None
    national: Duration | None
    blue_lead: Duration | None
    orange_lead: Duration | None
    levels: list[str]
    result: str | None
    recipients: str | None
    check_times: list[str]
    sources: list[str]
    flags: list[str]
    notes: list[str]


class EffectiveRules(BaseModel):
    monitors: list[EffectiveRule]
    too_short: list[TooShortRule]
    skipped_stages: list[str]
    business_types: list[str]


def effective_rules(
    policy: ResolvedPolicy, application: ApplicationProfile, index: RuleIndex | None = None
) -> EffectiveRules:
    """The monitor and too-short rules in force for `application`, variants applied."""
    rules = index_for(policy, index)
    facts = rules.facts(application)
    sel = rules.select(facts)
    out: list[EffectiveRule] = []
    for plan in sel.plans:
        r = plan.rule
        assert r.code is not None and r.start is not None and r.stop is not None
        out.append(
            EffectiveRule(
                id=r.id,
                code=r.code,
                label=r.label,
                start=r.start,
                stop=r.stop,
                pauses=[f"{p.from_event} → {p.to_event} ({p.reason})" for p in r.pauses or []],
                provincial=r.provincial,
                national=r.national,
                blue_lead=plan.blue_lead if "blue" in plan.levels else None,
                orange_lead=plan.orange_lead if "orange" in plan.levels else None,
                levels=plan.levels,
                result=r.result,
                recipients=r.recipients,
                check_times=list(r.check_times or []),
                sources=plan.sources,
                flags=plan.flags,
                notes=plan.notes,
            )
        )
    return EffectiveRules(
        monitors=out,
        too_short=list(sel.too_short),
        skipped_stages=sorted(sel.skipped),
        business_types=sorted(facts.business_types),
    )
