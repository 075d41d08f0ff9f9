"""Organisation and staff tables.

Names and phones are personal data: they live in these tables and the API's staff endpoints,
never in logs at INFO, search attributes or error messages.
"""

from __future__ import annotations

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel


class UnitRow(SQLModel, table=True):
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


class StaffRow(StaffBase, table=True):
    __tablename__ = "staff"

    id: int | None = Field(default=None, primary_key=True)
    #: argon2 (core/security.py); None: this member cannot sign in. Never answered.
    password_hash: str | None = Field(default=None, max_length=255)
    #: Every permission in every unit (the bootstrap administrator).
    superuser: bool = Field(default=False)
