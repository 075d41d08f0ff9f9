"""HTTP request and response bodies that are not workflow payloads themselves."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from pydantic import ConfigDict, Field, field_validator

from contracts.application import (
    APPLICATION_NO_PATTERN,
    CLOCK_SKEW,
    ApplicationInput,
    ApplicationProfile,
    Customer,
)
from policies.application import require_aware
from policies.preview import ProfileIn

# A back-office clerk may record an application taken on paper in the last week, no earlier:
# older ones would start with deadlines already long past and distort the reports.
MAX_BACKDATE = timedelta(days=7)


class ApplicationCreate(ProfileIn):
    """The preview's body (ProfileIn: the unit exists, flags are declared) plus who and what
    number; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

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

    _aware = field_validator("accepted_at")(require_aware)

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
