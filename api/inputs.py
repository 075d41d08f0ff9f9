"""Validating request bodies without echoing them back.

FastAPI's own 422 quotes the input, and a refused phone number must not travel into error
messages (and the logs they reach). Routes that take personal data validate here instead:
every error names its field and the reason, never the value.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import HTTPException, status
from pydantic import BaseModel, ValidationError

from contracts.errors import FieldError

M = TypeVar("M", bound=BaseModel)


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Pydantic's errors as {field, reason}, without the offending input."""
    out = []
    for err in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        # A model-level check names its field at the start of its message.
        if not loc:
            head, sep, rest = msg.partition(": ")
            loc, msg = (head, rest) if sep and " " not in head else ("body", msg)
        out.append(FieldError(field=loc, reason=msg))
    return out


def unprocessable(errors: list[FieldError]) -> HTTPException:
    if len(errors) == 1:
        return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=errors[0].model_dump())
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail={"errors": [e.model_dump() for e in errors]},
    )


def validate(model: type[M], data: Any) -> M:
    """`model` from `data`, or a 422 naming every field at fault."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise unprocessable(field_errors(exc)) from None


def json_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` that documents a body the route takes as a plain dict and validates
    itself (so that OpenAPI still tells the whole truth)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }
