"""The SMS outbox: one row per (application, monitor, level, phone).

The documents' de-duplication rule (同一工单同一环节同一预警级别同一电话号码仅发送一次短信) is a
unique constraint, so no retry, replay or duplicate warning can ever queue a second message.
Phones are personal data: never in logs at INFO or error messages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from readmodel.types import UTCDateTime

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
