"""The part of a resolved policy one application can use: what its workflow carries.

A unit's whole policy is ~140 KB of JSON; every workflow records its policy in its start input
(and again at each continue-as-new), so carrying all of it for every application would multiply
Temporal's storage for nothing. The rules an application can use are fixed at acceptance (its
attributes and the acceptance date select them; events only start and stop them), so the
workflow carries those rules only, and the engine gives identical answers on both (tested).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from policies.engine import Application, _Facts, _select
from policies.schema import ResolvedPolicy


def slim_policy(policy: ResolvedPolicy, application: Application) -> ResolvedPolicy:
    facts = _Facts(policy, application, ZoneInfo(policy.settings.timezone))
    selection = _select(policy, facts)
    monitor_ids = {plan.rule.id for plan in selection.plans}
    short_ids = {rule.id for rule in selection.too_short}
    return policy.model_copy(
        update={
            "monitors": [m for m in policy.monitors if m.id in monitor_ids],
            "too_short": [t for t in policy.too_short if t.id in short_ids],
            # Tables for plan generation, approvals and the documents' own notes: the API reads
            # them from the pack; no deadline depends on them.
            "params": {},
            "inconsistencies": [],
        }
    )
