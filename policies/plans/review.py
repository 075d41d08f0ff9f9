"""What the pack lets the engine decide alone (`[params.plan_review]`).

Above the voltages the engine may decide (000 三(二)2: low voltage and 10 kV are computed, the
rest goes to 专业联动), above the high-voltage capacity it may decide (Shanghai: 800 kVA, 网上会签
或集中会审), or for a class of customer a person must judge (important customers: the power-source
configuration and 自备应急电源 of GB/T 29328), the engine still proposes a plan but marks it for
joint review with the reason.
"""

from __future__ import annotations

from policies.plans.facts import Facts, Ledger
from policies.plans.rules import ReviewTable


def check_review(facts: Facts, table: ReviewTable, ledger: Ledger) -> None:
    for rule in table.rules:
        if rule.in_force(facts.accepted_on) and facts.matches(rule.when):
            ledger.refer(rule.code, f"{rule.id}: {rule.label}", rule.source.cite())
