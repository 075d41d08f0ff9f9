"""HTTP request and response bodies that are not workflow payloads themselves."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from pydantic import Field, field_validator

from policies.loader import list_units
from workflows.models import (
    APPLICATION_NO_PATTERN,
    ApplicationInput,
    ApplicationProfile,
    Customer,
)

# A back-office clerk may record an application taken on paper in the last week, no earlier:
# older ones would start with deadlines already long past and distort the reports.
MAX_BACKDATE = timedelta(days=7)
CLOCK_SKEW = timedelta(minutes=5)


class ApplicationCreate(ApplicationProfile):
    application_no: str | None = Field(
        default=None,
        pattern=APPLICATION_NO_PATTERN,
        description="Generated when absent",
    )
    accepted_at: datetime | None = Field(  # type: ignore[assignment]
        default=None, description="Defaults to now; may be up to 7 days in the past"
    )
    customer: Customer
    customer_manager: str | None = Field(default=None, max_length=64)
    notify_customer: bool = Field(
        default=True, description="Send the customer progress messages (办电进程主动推送)"
    )

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, v: str) -> str:
        units = list_units()
        if v not in units:
            raise ValueError(f"unknown unit {v!r}; known: {', '.join(units)}")
        return v

    @field_validator("accepted_at")
    @classmethod
    def _aware_or_none(cls, v: datetime | None) -> datetime | None:
        if v is not None and (v.tzinfo is None or v.utcoffset() is None):
            raise ValueError("must carry a timezone offset, e.g. 2026-09-21T10:00:00+08:00")
        return v

    def to_input(self, now: datetime) -> ApplicationInput:
        """Resolve defaults against `now` and check the acceptance instant's window."""
        accepted_at = self.accepted_at or now
        if accepted_at > now + CLOCK_SKEW:
            raise ValueError("accepted_at: must not be in the future")
        if accepted_at < now - MAX_BACKDATE:
            raise ValueError("accepted_at: must be no earlier than 7 days ago")
        profile_fields = set(ApplicationProfile.model_fields) - {"accepted_at"}
        profile = ApplicationProfile(
            **self.model_dump(include=profile_fields), accepted_at=accepted_at
        )
        return ApplicationInput(
            application_no=self.application_no or generate_application_no(now),
            profile=profile,
            customer=self.customer,
            customer_manager=self.customer_manager,
            notify_customer=self.notify_customer,
        )


def generate_application_no(now: datetime) -> str:
    return f"A{now:%Y%m%d}{secrets.token_hex(4).upper()}"
