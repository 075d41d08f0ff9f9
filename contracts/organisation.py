"""The organisation as the API and the seed accept it: unit and staff inputs, and the unit
tree's path arithmetic.

Units form a tree by their path-like codes (`henan` → `henan/sanmenxia` →
`henan/sanmenxia/hubin` → a supply station). Staff hold roles (the glossary's role codes) in a
unit. Names and phones are personal data: never in logs at INFO, search attributes or errors.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The role and department codes are the glossary's, kept once in policies.codes.
from policies.codes import DEPARTMENTS, ROLES, UNIT_CODE_RE

UnitLevel = Literal["province", "city", "county", "station"]
UNIT_LEVELS: tuple[str, ...] = ("province", "city", "county", "station")

#: Roles that belong to a department and mean nothing without one.
DEPARTMENT_ROLES: frozenset[str] = frozenset(
    {"coordinator", "dept_deputy_director", "dept_director", "dept_executive"}
)

STAFF_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")


def normalize_mobile(raw: str) -> str:
    """A mainland mobile number as its 11 digits, or ValueError (without echoing the input:
    a phone is personal data and error messages travel to logs and clients)."""
    digits = re.sub(r"[\s-]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE_RE.match(digits):
        raise ValueError("not a mainland mobile number (11 digits, 13x-19x, optional +86)")
    return digits


def mask_phone(phone: str) -> str:
    """138****0000: enough to tell rows apart in a debug log without exposing the number."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def unit_parent(code: str) -> str | None:
    return code.rsplit("/", 1)[0] if "/" in code else None


def unit_chain(code: str) -> list[str]:
    """The unit and its ancestors, nearest first: the order in which roles are looked for."""
    parts = code.split("/")
    return ["/".join(parts[:i]) for i in range(len(parts), 0, -1)]


class UnitIn(BaseModel):
    """A unit as the API and the seed accept it; the parent is the code's path parent."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=128)
    name: str = Field(min_length=1, max_length=200)
    level: UnitLevel

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not UNIT_CODE_RE.match(v):
            raise ValueError("must be a unit code like 'henan/sanmenxia' (lowercase, '/' between)")
        return v

    @model_validator(mode="after")
    def _depth(self) -> UnitIn:
        # province → city → county → station: the level is the code's depth.
        expected = UNIT_LEVELS[min(self.code.count("/"), len(UNIT_LEVELS) - 1)]
        if self.level != expected:
            raise ValueError(f"level: a unit at depth {self.code.count('/') + 1} is a {expected}")
        return self


class StaffIn(BaseModel):
    """A staff member as the API and the CSV import accept them. The phone is normalised to
    its 11 digits so that the outbox's de-duplication by phone sees one number once."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=64)
    name: str = Field(min_length=1, max_length=100)
    roles: list[str] = Field(min_length=1)
    unit: str = Field(max_length=128)
    department: str = "marketing"
    phone: str
    active: bool = True

    @field_validator("code")
    @classmethod
    def _staff_code(cls, v: str) -> str:
        if not STAFF_CODE_RE.match(v):
            raise ValueError("letters, digits, '_', '.', '-'; up to 64; e.g. cm-001")
        return v

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - ROLES)
        if unknown:
            raise ValueError(f"unknown role code(s) {', '.join(unknown)} (GLOSSARY.md roles)")
        return list(dict.fromkeys(v))

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        if not UNIT_CODE_RE.match(v):
            raise ValueError("must be a unit code like 'henan/sanmenxia'")
        return v

    @field_validator("department")
    @classmethod
    def _department(cls, v: str) -> str:
        if v not in DEPARTMENTS:
            raise ValueError(f"unknown department code (one of {', '.join(sorted(DEPARTMENTS))})")
        return v

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        return normalize_mobile(v)

    @model_validator(mode="after")
    def _department_roles(self) -> StaffIn:
        dept_roles = DEPARTMENT_ROLES & set(self.roles)
        if dept_roles and self.department == "marketing":
            raise ValueError(
                f"department: role(s) {', '.join(sorted(dept_roles))} belong to a coordinating "
                "department, not marketing"
            )
        return self
