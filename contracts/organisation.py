"""The organisation as the API and the seed accept it: unit and staff inputs, and the unit
tree's path arithmetic.

Units form a tree by their path-like codes (`henan` → `henan/sanmenxia` →
`henan/sanmenxia/hubin` → a supply station). Staff hold roles (the glossary's role codes) in a
unit. Names and phones are personal data: never in logs at INFO, search attributes or errors.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from contracts.text import Line, PersonName

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
#: A mobile number as a person types it: an optional +86, 0086 or 86, then the 11 digits,
#: single spaces or '-' between them.
MOBILE_INPUT_PATTERN = r"^(\+86|0086|86)?[ -]?1[3-9][0-9]([ -]?[0-9]){8}$"
#: Staff codes name a staff member in a path: `/api/staff/import` is the import's.
RESERVED_STAFF_CODES = frozenset({"import"})


def _check_roles(v: list[str]) -> list[str]:
    unknown = sorted(set(v) - ROLES)
    if unknown:
        raise ValueError(f"unknown role code(s) {', '.join(unknown)} (docs/glossary.md roles)")
    return list(dict.fromkeys(v))


def _check_department(v: str) -> str:
    if v not in DEPARTMENTS:
        raise ValueError(f"unknown department code (one of {', '.join(sorted(DEPARTMENTS))})")
    return v


def _check_unit_code(v: str) -> str:
    if not UNIT_CODE_RE.fullmatch(v):
        raise ValueError("must be a unit code like 'henan/sanmenxia' (lowercase, '/' between)")
    return v


def _check_mobile(v: str) -> str:
    if not re.fullmatch(MOBILE_INPUT_PATTERN, v):
        raise ValueError(
            "not a mainland mobile number (11 digits, 13x-19x, optional +86; single spaces "
            "or '-' between digits)"
        )
    return normalize_mobile(v)


# The checks as types, so the staff body and its patch share them; each JSON Schema states
# the rule its validator checks (the validator's message says it better than a pattern's).
_ROLE_SCHEMA = WithJsonSchema({"type": "string", "enum": sorted(ROLES)})
Role = Annotated[str, AfterValidator(lambda v: _check_roles([v])[0]), _ROLE_SCHEMA]
#: Checked as a whole, so a refusal names `roles` and every unknown code at once.
Roles = Annotated[
    list[Annotated[str, _ROLE_SCHEMA]], Field(min_length=1), AfterValidator(_check_roles)
]
#: The department codes as the schema states them (contracts.coordination uses it too).
DEPARTMENT_SCHEMA = WithJsonSchema({"type": "string", "enum": sorted(DEPARTMENTS)})
Department = Annotated[str, AfterValidator(_check_department), DEPARTMENT_SCHEMA]
UnitCode = Annotated[
    str,
    Field(max_length=128, json_schema_extra={"pattern": UNIT_CODE_RE.pattern}),
    AfterValidator(_check_unit_code),
]
MobileInput = Annotated[
    str,
    Field(
        json_schema_extra={"pattern": MOBILE_INPUT_PATTERN},
        description="A mainland mobile number: 11 digits (13x-19x), optional +86, single "
        "spaces or '-' between digits; stored as its 11 digits",
    ),
    AfterValidator(_check_mobile),
]


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


JsonDict = dict[str, JsonValue]


def _levels_schema() -> JsonDict:
    rules: list[JsonValue] = []
    for depth, level in enumerate(UNIT_LEVELS):
        last = depth == len(UNIT_LEVELS) - 1
        pattern = f"^[^/]+(/[^/]+){{{depth},}}$" if last else f"^[^/]+(/[^/]+){{{depth}}}$"
        rule: JsonDict = {
            "if": {"properties": {"code": {"pattern": pattern}}, "required": ["code"]},
            "then": {"properties": {"level": {"const": level}}},
        }
        rules.append(rule)
    return {"allOf": rules}


class UnitIn(BaseModel):
    """A unit as the API and the seed accept it; the parent is the code's path parent."""

    model_config = ConfigDict(
        extra="forbid",
        # The level is the code's depth (the check below), for clients and fuzzers.
        json_schema_extra=_levels_schema(),
    )

    code: UnitCode = Field(examples=["henan/sanmenxia"])
    name: Line
    level: UnitLevel

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

    model_config = ConfigDict(
        extra="forbid",
        # The department rule below, for clients and fuzzers reading the schema.
        json_schema_extra={
            "if": {
                "properties": {"roles": {"contains": {"enum": [*sorted(DEPARTMENT_ROLES)]}}},
                "required": ["roles"],
            },
            "then": {
                "properties": {"department": {"not": {"const": "marketing"}}},
                "required": ["department"],
            },
        },
    )

    code: str = Field(
        max_length=64,
        json_schema_extra={"pattern": STAFF_CODE_RE.pattern, "not": {"enum": ["import"]}},
        examples=["cm-001"],
    )
    name: PersonName
    roles: Roles
    unit: UnitCode
    department: Department = "marketing"
    phone: MobileInput
    active: StrictBool = True

    @field_validator("code")
    @classmethod
    def _staff_code(cls, v: str) -> str:
        if not STAFF_CODE_RE.fullmatch(v):
            raise ValueError("letters, digits, '_', '.', '-'; up to 64; e.g. cm-001")
        if v in RESERVED_STAFF_CODES:
            raise ValueError(f"{v!r} is reserved (a path of the staff API)")
        return v

    @model_validator(mode="after")
    def _department_roles(self) -> StaffIn:
        dept_roles = DEPARTMENT_ROLES & set(self.roles)
        if dept_roles and self.department == "marketing":
            raise ValueError(
                f"department: role(s) {', '.join(sorted(dept_roles))} belong to a coordinating "
                "department, not marketing"
            )
        return self
