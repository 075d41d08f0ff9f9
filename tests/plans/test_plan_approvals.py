"""The plan's outside-line approval (the packs' `admin_approval` tables) agrees with the deadline
engine's approval stage (the packs' stage rules) for every unit: the plan never says "no
approval" where the deadlines wait for one, nor the reverse."""

from __future__ import annotations

from datetime import datetime

import pytest

from policies.engine import effective_rules
from policies.loader import list_units, load_policy
from policies.params import admin_approval
from policies.profile import ApplicationProfile
from tests.plans.support import CST

CASES = [
    ("hv", "10kV"),
    ("hv", "35kV"),
    ("lv_small_micro", "380V"),
    ("lv_non_residential", "380V"),
    ("lv_residential", "220V"),
]
LENGTHS = [0, 50, 150, 151, 200, 201, 300, 301, 900]


@pytest.mark.parametrize("unit", list_units())
@pytest.mark.parametrize("year", [2019, 2021, 2026])
def test_approval_table_matches_the_approval_stage(unit: str, year: int) -> None:
    policy = load_policy(unit)
    accepted = datetime(year, 12, 1, 9, tzinfo=CST)
    for business_type, voltage in CASES:
        for length in LENGTHS:
            for flags in ((), ("main_road",)):
                answer = admin_approval(
                    policy, voltage, length, business_type, flags, accepted.date()
                )
                assert answer is not None
                app = ApplicationProfile(
                    unit=unit,
                    business_type=business_type,
                    voltage=voltage,
                    accepted_at=accepted,
                    outside_line_m=length,
                    flags=flags,
                    small_micro=business_type == "lv_small_micro",
                )
                stage = "admin_approval" not in effective_rules(policy, app).skipped_stages
                assert answer.value["required"] is stage, (business_type, voltage, length, flags)
