"""Who may do what: the one table of roles and permissions, and the unit scope.

`ROLE_PERMISSIONS` is the table docs/access.md shows (a test compares the two). A staff member
holds the union of their roles' permissions, in their unit and the units under it; a superuser
(the bootstrap administrator) holds every permission in every unit.

The API enforces it (api/auth.py): each route declares the permission it needs, or that it is
public.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Every permission, with what it allows (docs/access.md).
PERMISSIONS: dict[str, str] = {
    "applications.read": "list, read and export applications, the warning board, their plans",
    "applications.create": "open an application",
    "applications.record": "record stage events and holds (pause, resume)",
    "applications.cancel": "cancel an application",
    "applications.import": "import in-flight applications with their history (go-live)",
    "plans.decide": "approve or revise a supply plan, ask for a joint review, reserve capacity",
    "reports.read": "the reports (connection time, stage times, warnings, lists, penalties)",
    "notices.read": "read coordination notices",
    "notices.answer": "answer the coordination notices of one's own department",
    "outages.read": "read outage plans (送停电计划)",
    "outages.schedule": "submit and change outage plans",
    "reference.read": "units, staff, the grid, calendar publications",
    "integrations.read": "webhook deliveries, permits, reserve projects, registrations",
    "integrations.handle": "follow up and convert reserve projects, confirm registrations",
    "integrations.replay": "replay a webhook delivery",
    "notifications.read": "the SMS outbox",
    "notifications.requeue": "requeue failed messages, wake the dispatcher",
    "calendars.publish": "publish or amend a calendar year",
    "operations.reconcile": "reconcile the read model with the workflows",
    "codec.use": "decode payloads in Temporal UI and the CLI (the codec server)",
    "audit.read": "the audit trail",
    "units.manage": "create units",
    "staff.manage": "create, change and import staff, set their passwords",
    "grid.manage": "change the grid records",
}

_READER = ("applications.read", "reports.read", "notices.read", "outages.read", "reference.read")
_CASEWORK = (
    "applications.read",
    "applications.create",
    "applications.record",
    "plans.decide",
    "notices.read",
    "outages.read",
    "reference.read",
    "integrations.read",
    "integrations.handle",
)

#: The glossary's role codes (plus `admin`) and what each may do.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "customer_manager": frozenset(_CASEWORK),
    "connection_specialist": frozenset(
        (
            *_CASEWORK,
            "applications.cancel",
            "applications.import",
            "reports.read",
            "notifications.read",
            "outages.schedule",
        )
    ),
    "project_manager": frozenset(
        ("applications.read", "notices.read", "outages.read", "reference.read")
    ),
    # Dispatch (调控中心) coordinators also schedule outages.
    "coordinator": frozenset(
        (
            "applications.read",
            "notices.read",
            "notices.answer",
            "outages.read",
            "outages.schedule",
            "reference.read",
        )
    ),
    "marketing_deputy_director": frozenset(_READER),
    "marketing_director": frozenset((*_READER, "audit.read")),
    "executive": frozenset((*_READER, "audit.read")),
    "dept_deputy_director": frozenset(_READER),
    "dept_director": frozenset(_READER),
    "dept_executive": frozenset(_READER),
    "provincial_dept_head": frozenset(_READER),
    "operator": frozenset(
        (
            "applications.read",
            "reference.read",
            "calendars.publish",
            "notifications.read",
            "notifications.requeue",
            "integrations.read",
            "integrations.replay",
            "operations.reconcile",
            "codec.use",
            "audit.read",
        )
    ),
    "admin": frozenset(
        (
            "reference.read",
            "units.manage",
            "staff.manage",
            "grid.manage",
            "audit.read",
            "applications.import",
        )
    ),
    # An external system: webhooks with their signatures, never a staff token.
    "integration": frozenset(),
}

#: Roles that write only the applications they manage or that belong to their own unit
#: (not the units under it); the others write anywhere in their scope.
OWN_UNIT_WRITERS: frozenset[str] = frozenset({"customer_manager"})


def unit_covers(scope: str, unit: str) -> bool:
    """`unit` is `scope` or lies under it in the unit tree."""
    return unit == scope or unit.startswith(f"{scope}/")


@dataclass(frozen=True)
class Principal:
    """A signed-in member of staff, as the API sees them."""

    code: str
    unit: str
    roles: tuple[str, ...] = ()
    department: str = "marketing"
    superuser: bool = False
    permissions: frozenset[str] = field(default=frozenset())

    @classmethod
    def of(
        cls,
        code: str,
        unit: str,
        roles: list[str] | tuple[str, ...],
        department: str = "marketing",
        superuser: bool = False,
    ) -> Principal:
        granted = (
            frozenset(PERMISSIONS)
            if superuser
            else frozenset().union(*(ROLE_PERMISSIONS.get(r, frozenset()) for r in roles))
        )
        return cls(code, unit, tuple(roles), department, superuser, granted)

    def may(self, permission: str) -> bool:
        return self.superuser or permission in self.permissions

    def sees(self, unit: str | None, customer_manager: str | None = None) -> bool:
        """An application (or any row) of `unit` is in this member's scope: their unit and the
        units under it, and the applications they manage."""
        if self.superuser:
            return True
        if customer_manager is not None and customer_manager == self.code:
            return True
        return unit is not None and unit_covers(self.unit, unit)

    def writes(self, unit: str | None, customer_manager: str | None = None) -> bool:
        """May change an application of `unit`: customer managers only theirs or their own
        unit's, the others anything they see."""
        if not self.sees(unit, customer_manager):
            return False
        if self.superuser or set(self.roles) - OWN_UNIT_WRITERS:
            return True
        return customer_manager == self.code or unit == self.unit


def answers_for(user: Principal, department: str) -> bool:
    """A coordinator answers only their own department's notices."""
    return user.superuser or (user.may("notices.answer") and user.department == department)


def markdown_table() -> str:
    """The table docs/access.md shows: one row per role, its permissions."""
    lines = ["| role | permissions |", "|---|---|"]
    for role, granted in ROLE_PERMISSIONS.items():
        lines.append(f"| `{role}` | {', '.join(f'`{p}`' for p in sorted(granted)) or '(none)'} |")
    return "\n".join(lines)
