"""The policy's roles for a warning, resolved to people: a pure function over the staff it is
given (the active staff of the application's unit and its ancestors, and the customer manager
the application names; the query that fetches them is `readmodel.outbox_queue`).

- customer_manager: the staff member the application names (any unit);
- department roles (coordinator, dept_*): holders in each coordinating department, nearest
  unit up the tree;
- provincial_dept_head: holders at the province (the unit path's root), in the coordinating
  departments (marketing when the item is not a coordination item);
- every other role: holders at the application's unit, else at the nearest ancestor that has
  any (a county without its own specialist is covered by its city's).

One recipient per phone, listing every role that made it one; a role nobody holds is a
`Missing` entry with its reason (recorded as undeliverable, never dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from contracts.application import WarningNotice
from contracts.organisation import DEPARTMENT_ROLES, unit_chain
from policies.codes import ROLES

#: Which departments a coordination item (协同事项) involves, by the monitor's code. The
#: warning carries only `coordination = true`; the documents name the notices, not the
#: departments, so this is the project's reading (docs/notifications.md).
COORDINATION_DEPARTMENTS: dict[str, tuple[str, ...]] = {
    "joint_survey": ("development", "operations"),
    "joint_drawing_review": ("operations",),
    "joint_mid_inspection": ("operations",),
    "joint_acceptance": ("operations", "dispatch"),
    "grid_works": ("construction",),
    "outage_plan": ("dispatch",),
    "admin_approval": ("construction",),
}
DEFAULT_COORDINATION_DEPARTMENTS = ("operations",)


class StaffMember(Protocol):
    """What recipient selection reads of a staff member (the staff table's rows have it)."""

    @property
    def code(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def roles(self) -> Sequence[str]: ...
    @property
    def department(self) -> str: ...
    @property
    def phone(self) -> str: ...
    @property
    def active(self) -> bool: ...


@dataclass
class Recipient:
    phone: str
    roles: list[str]
    staff_code: str | None


@dataclass(frozen=True)
class Missing:
    role: str
    department: str
    reason: str


@dataclass
class Resolution:
    recipients: list[Recipient] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)

    def add(self, person: StaffMember, role: str) -> None:
        for r in self.recipients:
            if r.phone == person.phone:
                if role not in r.roles:
                    r.roles.append(role)
                return
        self.recipients.append(Recipient(person.phone, [role], person.code))


def coordination_departments(code: str) -> tuple[str, ...]:
    return COORDINATION_DEPARTMENTS.get(code, DEFAULT_COORDINATION_DEPARTMENTS)


def notice_departments(notice: WarningNotice) -> tuple[str, ...]:
    """The coordinating departments of a warning: none unless it is a coordination item;
    those the notice names if it names any (a field the workflow may add), else those of the
    monitor's code."""
    if not notice.coordination:
        return ()
    named: tuple[str, ...] = tuple(getattr(notice, "departments", None) or ())
    return named or coordination_departments(notice.code)


def _nearest(
    staff: Sequence[StaffMember], role: str, department: str | None, units: Sequence[str]
) -> list[StaffMember]:
    """The role's holders at the first of `units` that has any, by staff code."""
    for u in units:
        found = [
            s
            for s in staff
            if s.unit == u and role in s.roles and department in (None, s.department)
        ]
        if found:
            return sorted(found, key=lambda s: s.code)
    return []


def _customer_manager(
    res: Resolution, staff: Sequence[StaffMember], customer_manager: str | None
) -> None:
    role = "customer_manager"
    if not customer_manager:
        res.missing.append(Missing(role, "", "the application names no customer manager"))
        return
    person = next((s for s in staff if s.code == customer_manager), None)
    if person is None:
        reason = f"customer manager {customer_manager} is not active staff"
        res.missing.append(Missing(role, "", reason))
    else:
        res.add(person, role)


def _department_role(
    res: Resolution,
    staff: Sequence[StaffMember],
    role: str,
    chain: Sequence[str],
    departments: Sequence[str],
) -> None:
    provincial = role == "provincial_dept_head"
    depts = list(departments) or (["marketing"] if provincial else [])
    if not depts:
        res.missing.append(Missing(role, "", "not a coordination item: no department"))
    units = chain[-1:] if provincial else chain
    where = f"province {chain[-1]}" if provincial else chain[0]
    for dept in depts:
        found = _nearest(staff, role, dept, units)
        if not found:
            res.missing.append(Missing(role, dept, f"nobody holds it for {where} or above"))
        for person in found:
            res.add(person, role)


def select_recipients(
    staff: Sequence[StaffMember],
    unit: str,
    roles: Sequence[str],
    customer_manager: str | None,
    departments: Sequence[str],
) -> Resolution:
    """People for the roles, in the policy's order; one entry per phone. Inactive staff in
    `staff` are ignored."""
    chain = unit_chain(unit)
    active = [s for s in staff if s.active]
    res = Resolution()
    for role in roles:
        if role == "customer_manager":
            _customer_manager(res, active, customer_manager)
        elif role not in ROLES:
            res.missing.append(Missing(role, "", "unknown role code"))
        elif role in DEPARTMENT_ROLES or role == "provincial_dept_head":
            _department_role(res, active, role, chain, departments)
        else:
            found = _nearest(active, role, None, chain)
            if not found:
                res.missing.append(Missing(role, "", f"nobody holds it in {unit} or above"))
            for person in found:
                res.add(person, role)
    return res
