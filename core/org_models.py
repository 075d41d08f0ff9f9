"""Organisation, staff and the SMS outbox (issue 6).

Units form a tree by their path-like codes (GLOSSARY.md: `henan` → `henan/sanmenxia` →
`henan/sanmenxia/hubin` → a supply station). Staff hold roles (GLOSSARY.md role codes) in a unit.
The outbox holds one row per (application, monitor, level, phone): the documents'
de-duplication rule (同一工单同一环节同一预警级别同一电话号码仅发送一次短信) as a unique
constraint, so no retry, replay or duplicate warning can ever queue a second message.

Names and phones are personal data: they live in these tables and the API's staff endpoints,
never in logs at INFO, search attributes or error messages.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic import Field as PField
from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime

# The role and department codes are GLOSSARY.md's, kept once in policies.codes.
from policies.codes import DEPARTMENTS, ROLES

UnitLevel = Literal["province", "city", "county", "station"]
UNIT_LEVELS: tuple[str, ...] = ("province", "city", "county", "station")

#: Roles that belong to a department and mean nothing without one.
DEPARTMENT_ROLES: frozenset[str] = frozenset(
    {"coordinator", "dept_deputy_director", "dept_director", "dept_executive"}
)

UNIT_CODE_RE = re.compile(r"^[a-z][a-z0-9-]*(/[a-z][a-z0-9-]*)*$")
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


class OrgUnit(SQLModel, table=True):
    __tablename__ = "org_unit"

    code: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=200)
    level: str = Field(max_length=16)
    #: Redundant with the code's path, kept so SQL can join parent to child.
    parent: str | None = Field(default=None, index=True, max_length=128)


class StaffBase(SQLModel):
    #: The staff code applications name (e.g. ApplicationInput.customer_manager = "cm-001").
    code: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=100)
    roles: list[str] = Field(default_factory=list, sa_type=JSON)
    unit: str = Field(index=True, max_length=128, foreign_key="org_unit.code")
    department: str = Field(default="marketing", max_length=32)
    phone: str = Field(max_length=11)
    active: bool = Field(default=True, index=True)


class Staff(StaffBase, table=True):
    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)


OutboxState = Literal["pending", "sent", "failed"]
OutboxKind = Literal["warning", "progress"]


class OutboxBase(SQLModel):
    application_no: str = Field(index=True, max_length=64)
    unit: str = Field(max_length=128)
    kind: str = Field(max_length=16)
    #: Monitor rule id for warnings (hv.plan_reply); `progress.<kind>` for customer messages.
    monitor: str = Field(max_length=128)
    code: str = Field(default="", max_length=64)
    #: Warning level, or `progress` for customer messages.
    level: str = Field(max_length=16)
    phone: str = Field(index=True, max_length=11)
    #: The first role (in the policy's order) that made this phone a recipient; `roles` all.
    role: str = Field(max_length=64)
    roles: list[str] = Field(default_factory=list, sa_type=JSON)
    staff_code: str | None = Field(default=None, max_length=64)
    message: str = Field(max_length=1000)
    state: str = Field(default="pending", index=True, max_length=16)
    attempts: int = 0
    #: The send window this row waits for: it leaves only in [send_after, send_before).
    send_after: datetime = Field(sa_type=UTCDateTime, index=True)
    send_before: datetime = Field(sa_type=UTCDateTime)
    #: warning / appointment / progress: which windows apply when it must be rescheduled.
    window: str = Field(max_length=16)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: A dispatch holds the row until then while it sends it; a crashed one's hold runs out.
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    gateway_answer: str | None = Field(default=None, max_length=500)
    last_error: str | None = Field(default=None, max_length=500)


class OutboxRow(OutboxBase, table=True):
    __tablename__ = "sms_outbox"
    # 同一工单同一环节同一预警级别同一电话号码仅发送一次短信 (附件4 二(一)4).
    __table_args__ = (UniqueConstraint("application_no", "monitor", "level", "phone"),)

    id: int | None = Field(default=None, primary_key=True)

    @property
    def message_id(self) -> str:
        """Stable idempotency key handed to the gateway: a resend after a crash between the
        gateway's acceptance and our commit carries the same key, so the gateway drops it."""
        return f"sms-{self.id}"


class OutboxPublic(OutboxBase):
    id: int


class UndeliverableRow(SQLModel, table=True):
    """A role the policy names for a warning that nobody holds: recorded, never dropped."""

    __tablename__ = "sms_undeliverable"
    __table_args__ = (UniqueConstraint("application_no", "monitor", "level", "role", "department"),)

    id: int | None = Field(default=None, primary_key=True)
    application_no: str = Field(index=True, max_length=64)
    unit: str = Field(max_length=128)
    monitor: str = Field(max_length=128)
    level: str = Field(max_length=16)
    role: str = Field(max_length=64)
    #: The coordinating department for department roles, "" otherwise.
    department: str = Field(default="", max_length=32)
    reason: str = Field(max_length=300)
    created_at: datetime = Field(sa_type=UTCDateTime)


# --------------------------------------------------------------------------- input models


class UnitIn(BaseModel):
    """A unit as the API and the seed accept it; the parent is the code's path parent."""

    model_config = ConfigDict(extra="forbid")

    code: str = PField(max_length=128)
    name: str = PField(min_length=1, max_length=200)
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

    code: str = PField(max_length=64)
    name: str = PField(min_length=1, max_length=100)
    roles: list[str] = PField(min_length=1)
    unit: str = PField(max_length=128)
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
