"""Refusals as values: a type and the fields at fault, never a string parsed later.

The workflow raises them as `ApplicationError(message, refusal, type="Refusal",
non_retryable=True)` from its update validators and handlers (`refusal_error`); the API reads
the details back (`Refusal.from_details`) and answers with the same `errors` list, whatever the
language of the message: 422 for `invalid`, 409 for `conflict` and `closed`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from temporalio.exceptions import ApplicationError

#: `invalid`: the request itself is wrong (422). `conflict`: it clashes with the application's
#: state, such as an event out of order or a hold already open (409). `closed`: the application
#: is no longer running (409).
RefusalType = Literal["invalid", "conflict", "closed"]


class FieldError(BaseModel):
    """One field at fault and why, in words fit for the caller (no personal data)."""

    field: str = Field(description="The request field at fault, dotted for nested fields")
    reason: str


class Refusal(BaseModel):
    type: RefusalType
    errors: list[FieldError] = Field(min_length=1)

    @property
    def message(self) -> str:
        return "; ".join(f"{e.field}: {e.reason}" for e in self.errors)

    @classmethod
    def one(cls, type: RefusalType, field: str, reason: str) -> Refusal:
        return cls(type=type, errors=[FieldError(field=field, reason=reason)])

    @classmethod
    def from_details(cls, details: Any) -> Refusal | None:
        """The refusal an ApplicationError carries as its first detail, if it carries one."""
        if not details:
            return None
        first = details[0]
        if isinstance(first, Refusal):
            return first
        try:
            return cls.model_validate(first)
        except ValueError:
            return None


#: The `type` of the ApplicationError that carries a refusal, whatever the refusal's own type
#: (that one is in the details): the caller knows from it alone that `details[0]` is a Refusal.
REFUSAL_ERROR_TYPE = "Refusal"


def refusal_error(refusal: Refusal) -> ApplicationError:
    """The refusal as the workflow raises it from an update validator or handler: never
    retried (the same request would be refused again), nothing recorded."""
    return ApplicationError(refusal.message, refusal, type=REFUSAL_ERROR_TYPE, non_retryable=True)
