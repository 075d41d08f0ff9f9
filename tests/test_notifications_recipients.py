"""Recipient selection, table by table: the policy's roles resolved over a list of staff
values (no database). What the staff query returns is tested with the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from contracts.application import WarningNotice
from domain.notifications.recipients import (
    DEFAULT_COORDINATION_DEPARTMENTS,
    Missing,
    notice_departments,
    select_recipients,
)

HENAN = "henan"
CITY = "henan/sanmenxia"
COUNTY = "henan/sanmenxia/lingbao"
STATION = "henan/sanmenxia/lingbao/yinzhuang"
OTHER_CITY = "henan/xinyang"


@dataclass(frozen=True)
class Person:
    code: str
    unit: str
    roles: tuple[str, ...]
    phone: str
    department: str = "marketing"
    active: bool = True


STAFF = [
    Person("cm-001", CITY, ("customer_manager",), "13800000001"),
    Person("cm-101", COUNTY, ("customer_manager",), "13800000101"),
    Person("cm-old", CITY, ("customer_manager",), "13800000999", active=False),
    Person("sp-002", CITY, ("connection_specialist",), "13800000002"),
    Person("sp-001", CITY, ("connection_specialist",), "13800000003"),
    Person("sp-101", COUNTY, ("connection_specialist",), "13800000102"),
    Person("dir-01", CITY, ("marketing_director", "executive"), "13800000004"),
    Person("dir-xy", OTHER_CITY, ("marketing_director",), "13800000500"),
    Person("dep-ex", HENAN, ("marketing_deputy_director",), "13800000600", active=False),
    Person("co-ops", CITY, ("coordinator",), "13800000010", department="operations"),
    Person("co-dev", HENAN, ("coordinator",), "13800000011", department="development"),
    Person("co-cty", COUNTY, ("coordinator",), "13800000012", department="operations"),
    Person("pdh-mk", HENAN, ("provincial_dept_head",), "13800000020"),
    Person("pdh-op", HENAN, ("provincial_dept_head",), "13800000021", department="operations"),
    Person("pdh-cy", CITY, ("provincial_dept_head",), "13800000022", department="operations"),
]

Case = tuple[
    str, list[str], str | None, tuple[str, ...], list[tuple[str, list[str]]], list[Missing]
]

CASES: dict[str, Case] = {
    "the customer manager the application names, from any unit": (
        COUNTY,
        ["customer_manager"],
        "cm-001",
        (),
        [("cm-001", ["customer_manager"])],
        [],
    ),
    "no customer manager named": (
        CITY,
        ["customer_manager"],
        None,
        (),
        [],
        [Missing("customer_manager", "", "the application names no customer manager")],
    ),
    "an inactive customer manager": (
        CITY,
        ["customer_manager"],
        "cm-old",
        (),
        [],
        [Missing("customer_manager", "", "customer manager cm-old is not active staff")],
    ),
    "an unknown role code": (
        CITY,
        ["chief_wizard"],
        None,
        (),
        [],
        [Missing("chief_wizard", "", "unknown role code")],
    ),
    "holders at the unit itself, by staff code": (
        CITY,
        ["connection_specialist"],
        None,
        (),
        [("sp-001", ["connection_specialist"]), ("sp-002", ["connection_specialist"])],
        [],
    ),
    "the unit's own holder before its city's": (
        COUNTY,
        ["connection_specialist"],
        None,
        (),
        [("sp-101", ["connection_specialist"])],
        [],
    ),
    "a station without holders is covered by the nearest ancestor": (
        STATION,
        ["marketing_director"],
        None,
        (),
        [("dir-01", ["marketing_director"])],
        [],
    ),
    "another city's holder is not an ancestor": (
        "henan/sanmenxia-x",
        ["marketing_director"],
        None,
        (),
        [],
        [Missing("marketing_director", "", "nobody holds it in henan/sanmenxia-x or above")],
    ),
    "an inactive holder counts as nobody": (
        CITY,
        ["marketing_deputy_director"],
        None,
        (),
        [],
        [Missing("marketing_deputy_director", "", f"nobody holds it in {CITY} or above")],
    ),
    "one phone for two roles, listing both in the policy's order": (
        CITY,
        ["executive", "marketing_director"],
        None,
        (),
        [("dir-01", ["executive", "marketing_director"])],
        [],
    ),
    "a department role outside a coordination item": (
        CITY,
        ["coordinator"],
        None,
        (),
        [],
        [Missing("coordinator", "", "not a coordination item: no department")],
    ),
    "a department role per department, nearest up the tree": (
        COUNTY,
        ["coordinator"],
        None,
        ("operations", "development", "dispatch"),
        [("co-cty", ["coordinator"]), ("co-dev", ["coordinator"])],
        [Missing("coordinator", "dispatch", f"nobody holds it for {COUNTY} or above")],
    ),
    "the provincial head of marketing outside a coordination item": (
        COUNTY,
        ["provincial_dept_head"],
        None,
        (),
        [("pdh-mk", ["provincial_dept_head"])],
        [],
    ),
    "the provincial heads of the coordinating departments, at the province only": (
        CITY,
        ["provincial_dept_head"],
        None,
        ("operations", "construction"),
        [("pdh-op", ["provincial_dept_head"])],
        [
            Missing(
                "provincial_dept_head",
                "construction",
                "nobody holds it for province henan or above",
            )
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_recipients(case: str) -> None:
    unit, roles, cm, departments, recipients, missing = CASES[case]
    res = select_recipients(STAFF, unit, roles, cm, departments)
    assert [(r.staff_code, r.roles) for r in res.recipients] == recipients
    assert res.missing == missing
    phones = {p.code: p.phone for p in STAFF}
    assert all(r.phone == phones[r.staff_code or ""] for r in res.recipients)


def test_a_full_red_chain_in_the_policy_order() -> None:
    roles = ["customer_manager", "connection_specialist", "marketing_director", "executive"]
    res = select_recipients(STAFF, CITY, roles, "cm-001", ())
    assert [(r.staff_code, r.roles) for r in res.recipients] == [
        ("cm-001", ["customer_manager"]),
        ("sp-001", ["connection_specialist"]),
        ("sp-002", ["connection_specialist"]),
        ("dir-01", ["marketing_director", "executive"]),
    ]
    assert res.missing == []


def test_no_staff_means_every_role_is_missing() -> None:
    res = select_recipients([], CITY, ["customer_manager", "executive"], "cm-001", ())
    assert res.recipients == []
    assert [m.role for m in res.missing] == ["customer_manager", "executive"]


def notice(code: str, coordination: bool) -> WarningNotice:
    at = datetime(2026, 9, 22, tzinfo=UTC)
    return WarningNotice(
        application_no="N1",
        unit=CITY,
        business_type="hv",
        monitor=f"hv.{code}",
        code=code,
        level="blue",
        due_at=at,
        raised_at=at,
        coordination=coordination,
    )


@pytest.mark.parametrize(
    ("code", "coordination", "departments"),
    [
        ("joint_survey", False, ()),
        ("joint_survey", True, ("development", "operations")),
        ("joint_acceptance", True, ("operations", "dispatch")),
        ("grid_works", True, ("construction",)),
        ("outage_plan", True, ("dispatch",)),
        ("something_new", True, DEFAULT_COORDINATION_DEPARTMENTS),
    ],
)
def test_coordinating_departments(
    code: str, coordination: bool, departments: tuple[str, ...]
) -> None:
    assert notice_departments(notice(code, coordination)) == departments
