"""HTTP request and response bodies that are not workflow payloads themselves."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from contracts.application import (
    APPLICATION_NO_PATTERN,
    CLOCK_SKEW,
    ApplicationInput,
    ApplicationProfile,
    ApplicationState,
    Customer,
    WarningLevel,
)
from contracts.text import Note, ShortLine
from policies.preview import EventIn, PreviewRequest, ProfileIn
from policies.profile import Instant, require_aware

# A back-office clerk may record an application taken on paper in the last week, no earlier:
# older ones would start with deadlines already long past and distort the reports.
MAX_BACKDATE = timedelta(days=7)
#: Pages start at most this far in: deeper pages are a query to narrow, not to page through.
MAX_OFFSET = 1_000_000

#: A code-valued filter (unit, stage, staff code): bounded, like every query parameter.
QueryCode = Annotated[str | None, Query(min_length=1, max_length=128)]


def json_integer(value: object) -> object:
    """A JSON integer as JSON Schema has it: a number without a fraction (3.0 is one), not
    text nor a boolean (`BeforeValidator`, after the field's bounds in its `Annotated`)."""
    if isinstance(value, str | bool):
        raise ValueError("must be a JSON integer, not text or a boolean")
    return value


#: A page's bounds, the same on every list.
PageOffset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
PageLimit = Annotated[int, Query(ge=1, le=500)]


class ApplicationCreate(ProfileIn):
    """The preview's body (ProfileIn: the unit exists, flags are declared) plus who and what
    number; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    application_no: str | None = Field(
        default=None,
        pattern=APPLICATION_NO_PATTERN,
        description="Generated when absent",
    )
    accepted_at: Instant | None = Field(  # type: ignore[assignment]
        default=None, description="Defaults to now; may be up to 7 days in the past"
    )
    customer: Customer
    customer_manager: ShortLine | None = Field(default=None, description="Staff code")
    notify_customer: StrictBool = Field(
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


class ApplicationCreated(BaseModel):
    """The answer to creating an application: enough to go on, and where the rest is."""

    application_no: str
    state: ApplicationState
    stage: str
    next_due_at: datetime | None = Field(description="The earliest pending threshold")
    warning_level: WarningLevel | None = None
    provisional: bool = False
    href: str = Field(description="The application's address: GET it for the full status")


class PreviewEvent(EventIn):
    at: Instant
    reason: Note | None = None


class PreviewBody(PreviewRequest):
    """The preview's body, with its free text checked as every other input's is."""

    events: list[PreviewEvent] = Field(  # type: ignore[assignment]
        default_factory=list, max_length=500
    )
