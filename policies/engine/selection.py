"""Rule selection: which monitors and too-short rules of a policy apply to an application.

The rules are fixed at acceptance: the profile's attributes and the acceptance date select them,
events only start and stop them. A `RuleIndex` is what the engine derives from one policy (the
effective-date boundaries, the selections made so far); whoever holds a policy for long builds
one and passes it to `evaluate`, so each kind of application is selected once. It is an explicit
object, owned by its caller: nothing is kept per process.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from policies.engine.matching import Facts
from policies.engine.plans import Plan, plan_for
from policies.notice_table import TABLE as NOTICE_TABLE
from policies.profile import ApplicationProfile
from policies.schema import ResolvedPolicy, TooShortRule

# A long-lived index given applications of ever new kinds stays bounded.
_SELECTIONS_MAX = 16384


class Selection:
    """The rules in force for one kind of application, in the policy's order."""

    __slots__ = ("attached", "citations", "plans", "skipped", "standalone", "too_short")

    def __init__(
        self, plans: list[Plan], too_short: list[TooShortRule], skipped: frozenset[str]
    ) -> None:
        #: The monitor rules, variants applied.
        self.plans = plans
        #: The too-short rules.
        self.too_short = too_short
        #: Stages that do not exist for the application (their monitors are not selected).
        self.skipped = skipped
        # Each monitor carries the first too-short rule of its code not taken by an earlier
        # monitor; the rules left over are reported as monitors of their own. Decided once per
        # selection, for evaluate and clocks_started alike.
        by_code: dict[str, list[TooShortRule]] = {}
        for t in too_short:
            assert t.code is not None
            by_code.setdefault(t.code, []).append(t)
        #: Per plan, the too-short rule it carries (or None).
        self.attached: list[TooShortRule | None] = []
        for plan in plans:
            left = by_code.get(plan.rule.code or "")
            self.attached.append(left.pop(0) if left else None)
        taken = {t.id for t in self.attached if t is not None}
        #: The too-short rules reported as monitors of their own.
        self.standalone = [t for t in too_short if t.id not in taken]
        #: Per too-short rule id: its most specific clause and all its clauses, cited once.
        self.citations = {t.id: _citations(t) for t in too_short}


def _citations(rule: TooShortRule) -> tuple[str, list[str]]:
    main = rule.sources[-1] if rule.sources else rule.source
    return (main.cite() if main else "", [s.cite() for s in rule.sources or []])


class RuleIndex:
    """What the engine derives from one policy: the dates on which some rule comes into or goes
    out of force, and the selections made so far (keyed by the application's kind and where its
    acceptance date falls among those dates).

    Build it once where a policy is held for long and pass it to `evaluate`, `clocks_started`
    and `effective_rules`; without one they build one for the call.
    """

    __slots__ = ("_bounds", "_selections", "policy")

    def __init__(self, policy: ResolvedPolicy) -> None:
        self.policy = policy
        self._bounds = _effective_bounds(policy)
        self._selections: dict[tuple[Any, ...], Selection] = {}

    def facts(self, profile: ApplicationProfile) -> Facts:
        return Facts(self.policy, profile, ZoneInfo(self.policy.settings.timezone))

    def select(self, facts: Facts) -> Selection:
        """The rules in force for the application of `facts`."""
        # The acceptance date matters only through which effective-date range it falls in.
        key = (bisect_right(self._bounds, facts.accepted_on), facts.key)
        hit = self._selections.get(key)
        if hit is not None:
            return hit
        selection = _select(self.policy, facts)
        if len(self._selections) >= _SELECTIONS_MAX:
            self._selections.clear()
        self._selections[key] = selection
        return selection

    def selection(self, profile: ApplicationProfile) -> Selection:
        return self.select(self.facts(profile))


def index_for(policy: ResolvedPolicy, index: RuleIndex | None) -> RuleIndex:
    """`index` if given (it must be built from `policy`), else a new one for this call."""
    if index is None:
        return RuleIndex(policy)
    if index.policy is not policy:
        raise ValueError("index: built from another policy object than the one given")
    return index


def select_rules(
    policy: ResolvedPolicy, profile: ApplicationProfile, index: RuleIndex | None = None
) -> ResolvedPolicy:
    """The part of `policy` that `profile` can use: the same policy with only the monitor and
    too-short rules the engine selects for it, and without the tables no deadline depends on.

    This is what a workflow carries. A unit's whole policy is ~140 KB of JSON and every workflow
    records its policy in its start input (and again at each continue-as-new); the engine gives
    identical answers on the selected and the whole policy (tested).
    """
    selection = index_for(policy, index).selection(profile)
    monitor_ids = {plan.rule.id for plan in selection.plans}
    short_ids = {rule.id for rule in selection.too_short}
    return policy.model_copy(
        update={
            "monitors": [m for m in policy.monitors if m.id in monitor_ids],
            "too_short": [t for t in policy.too_short if t.id in short_ids],
            # Tables for plan generation, approvals and the documents' own notes: the API reads
            # them from the pack; no deadline depends on them. The notices the workflow issues
            # are its own steps: their rows for this business type travel with it.
            "params": _workflow_tables(policy, profile.business_type),
            "inconsistencies": [],
        }
    )


def _workflow_tables(policy: ResolvedPolicy, business_type: str) -> dict[str, dict[str, Any]]:
    table = policy.params.get(NOTICE_TABLE)
    if table is None:
        return {}
    rows = [r for r in table.get("rows", []) if business_type in r.get("business_types", [])]
    return {NOTICE_TABLE: {"source": table["source"], "rows": rows}} if rows else {}


def _effective_bounds(policy: ResolvedPolicy) -> list[date]:
    found: set[date] = set()
    rules: list[Any] = [
        *policy.monitors,
        *policy.too_short,
        *policy.stages,
        *policy.business_type_rules,
    ]
    for m in policy.monitors:
        rules.extend(m.variants or [])
    for r in rules:
        for d in (r.effective_from, r.effective_until):
            if d is not None:
                found.add(d)
    return sorted(found)


def _skipped_stages(policy: ResolvedPolicy, facts: Facts) -> frozenset[str]:
    exists: dict[str, bool] = {}
    for rule in policy.stages:
        if rule.stage is None or not rule.in_force(facts.accepted_on):
            continue
        ok = rule.when is None or facts.matches(rule.when)
        exists[rule.stage] = exists.get(rule.stage, False) or ok
    return frozenset(stage for stage, ok in exists.items() if not ok)


def _select(policy: ResolvedPolicy, facts: Facts) -> Selection:
    skipped = _skipped_stages(policy, facts)
    plans: list[Plan] = []
    for rule in policy.monitors:
        if rule.enabled is False or not rule.in_force(facts.accepted_on):
            continue
        if rule.when is not None and not facts.matches(rule.when):
            continue
        if rule.code in skipped:
            continue
        plans.append(plan_for(policy, rule, facts))
    shorts = [
        t
        for t in policy.too_short
        if t.enabled is not False
        and t.in_force(facts.accepted_on)
        and (t.when is None or facts.matches(t.when))
        and t.code not in skipped
    ]
    return Selection(plans, shorts, skipped)
