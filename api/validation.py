"""Validating a body the route assembles itself (a PATCH merged onto the stored row, a CSV
line): the same 422 problem as FastAPI's own validation, naming each field and never echoing
the refused input back (it may be a phone number)."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import HTTPException, status
from pydantic import BaseModel, ValidationError

from api.problems import ProblemError, validation_errors

M = TypeVar("M", bound=BaseModel)


def field_errors(exc: ValidationError) -> list[ProblemError]:
    return validation_errors(exc.errors(include_input=False, include_url=False))


def validate(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(*field_errors(exc)) from None


def invalid(*errors: ProblemError) -> HTTPException:
    """A 422 naming the fields at fault."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail={"type": "invalid", "errors": [e.model_dump(exclude_none=True) for e in errors]},
    )


def invalid_field(field: str, reason: str) -> HTTPException:
    return invalid(ProblemError(field=field, reason=reason))


def conflict(*errors: ProblemError) -> HTTPException:
    """A 409 naming the fields whose values clash with what is stored."""
    return HTTPException(
        status.HTTP_409_CONFLICT,
        detail={"type": "conflict", "errors": [e.model_dump(exclude_none=True) for e in errors]},
    )
