"""One shape for every error answer: RFC 9457 problem details (`application/problem+json`).

    {"type", "title", "status", "detail", "instance", "errors": [{"field", "reason"}, ...]}

Every 4xx and 5xx the API gives goes through the handlers installed here: refusals raised as
`HTTPException` (whatever their `detail` holds), FastAPI's request validation (422, one entry
per field at fault, without the refused input: it may be a phone number), unknown routes and
methods (404, 405 with an `Allow` listing what the path accepts) and unhandled exceptions (500,
with nothing of the internals). docs/api.md documents the types and the `field` convention.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, Literal

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.errors import FieldError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:grid-connection:problem:"
Location = Literal["body", "query", "path", "header", "cookie"]
_LOCATIONS: frozenset[str] = frozenset({"body", "query", "path", "header", "cookie"})

#: The project's problem types (docs/api.md) and their titles; any other status answers
#: `about:blank` with the status's own phrase as its title, as RFC 9457 asks.
TITLES: dict[str, str] = {
    "invalid": "The request is invalid",
    "conflict": "The request conflicts with the current state",
    "closed": "The application is closed",
    "not-found": "Not found",
    "unauthorized": "Sign in first",
    "forbidden": "Not allowed for this member of staff",
    "too-many": "Too many attempts",
    "unavailable": "A service the answer needs is unavailable",
    "internal": "Internal error",
}
_TYPE_OF_STATUS: dict[int, str] = {
    422: "invalid",
    409: "conflict",
    404: "not-found",
    403: "forbidden",
    401: "unauthorized",
    429: "too-many",
    503: "unavailable",
    500: "internal",
}
# A model-level check's message starts with the field it is about: "voltage: ...".
_NAMED_FIELD = re.compile(r"^[a-z_][a-z0-9_]*(\[\d+\])?(\.[a-z0-9_]+(\[\d+\])?)*$")
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class ProblemError(FieldError):
    """One field at fault. `field` is dotted within its location (`customer.name`,
    `events.0.at`); `location` says where that is when the request's shape was refused."""

    location: Location | None = Field(
        default=None, description="Where the field is: body, query, path or header"
    )
    row: int | None = Field(
        default=None, description="CSV imports: the file's line (the header is line 1)"
    )


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every 4xx and 5xx answer."""

    type: str = Field(
        description="`urn:grid-connection:problem:<kind>` (docs/api.md) or `about:blank`",
        examples=["urn:grid-connection:problem:invalid"],
    )
    title: str = Field(description="Short and the same for every problem of the type")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong with this request, in words")
    instance: str | None = Field(default=None, description="The request's path")
    errors: list[ProblemError] = Field(
        default_factory=list, description="The fields at fault; empty when none is"
    )


def problem(
    status: int,
    detail: str | None = None,
    errors: Sequence[ProblemError] = (),
    kind: str | None = None,
    instance: str | None = None,
) -> Problem:
    kind = kind if kind in TITLES else _TYPE_OF_STATUS.get(status)
    phrase = _phrase(status)
    text = detail or "; ".join(f"{e.field}: {e.reason}" for e in errors) or phrase
    if kind is None:
        return Problem(type="about:blank", title=phrase, status=status, detail=text,
                       instance=instance, errors=list(errors))  # fmt: skip
    return Problem(
        type=TYPE_PREFIX + kind,
        title=TITLES[kind],
        status=status,
        detail=text,
        instance=instance,
        errors=list(errors),
    )


def problem_response(p: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        p.model_dump(mode="json", exclude_none=True),
        status_code=p.status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# -- what raised it ---------------------------------------------------------------------------


def errors_from_detail(detail: Any) -> tuple[list[ProblemError], str | None, str | None]:
    """The fields, the sentence and the refusal type an HTTPException's `detail` carries, in
    any of the shapes the routes and the workflow's refusals use: `{"errors": [...]}`,
    `{"field", "reason"}`, `{"reason"}`, a list of `{"field", "reason"}`, or a string."""
    if isinstance(detail, str):
        return [], detail, None
    if isinstance(detail, list):
        return [_error(e) for e in detail if isinstance(e, dict)], None, None
    if not isinstance(detail, dict):
        return [], None, None
    kind = detail.get("type") if isinstance(detail.get("type"), str) else None
    if isinstance(detail.get("errors"), list):
        errors = [_error(e) for e in detail["errors"] if isinstance(e, dict)]
        return errors, _text(detail.get("detail")), kind
    if "field" in detail:
        return [_error(detail)], None, kind
    return [], _text(detail.get("reason") or detail.get("detail")), kind


def _text(value: Any) -> str | None:
    return str(value) if value else None


def _error(raw: dict[str, Any]) -> ProblemError:
    row = raw.get("row")
    return ProblemError(
        field=str(raw.get("field") or "body"),
        reason=str(raw.get("reason") or "refused"),
        row=row if isinstance(row, int) else None,
    )


_UNDECODABLE = ProblemError(
    field="body", reason="cannot be decoded (not UTF-8 JSON)", location="body"
)


def validation_errors(errors: Sequence[Any]) -> list[ProblemError]:
    """Pydantic's (or FastAPI's) errors as problem entries, without the offending input.

    `field` is the dotted path below the location (`body`, `query`, ...), which goes in
    `location`; a model-level check names its field at the start of its message
    ("voltage: ..."), and that name is used, below the model's own path.
    """
    out: list[ProblemError] = []
    for err in errors:
        loc = [p for p in err.get("loc", ()) if not _is_schema_tag(p)]
        where = loc[0] if loc and loc[0] in _LOCATIONS else None
        path = [str(p) for p in (loc[1:] if where else loc)]
        reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "json_invalid":
            path, reason = [], f"not valid JSON ({reason.lower()})"
        head, sep, rest = reason.partition(": ")
        if sep and err.get("type") == "value_error" and _NAMED_FIELD.match(head):
            path, reason = [*path, *re.sub(r"\[(\d+)\]", r".\1", head).split(".")], rest
        field = ".".join(path) or where or "body"
        out.append(ProblemError(field=field, reason=reason, location=where))
    return out


def _is_schema_tag(part: Any) -> bool:
    # Union members and validator wrappers appear in `loc` as tags like "function-after[...]".
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))


# -- handlers ---------------------------------------------------------------------------------


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot decode (not UTF-8, say): the request is invalid,
        # like any other body that is not what the schema says.
        p = problem(422, None, [_UNDECODABLE], "invalid", request.url.path)
        return problem_response(p, headers)
    if exc.status_code == 401 and _console_page(request):
        return RedirectResponse("/console/sign-in", status_code=303)
    errors, detail, kind = errors_from_detail(exc.detail)
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
        detail = f"{request.method} is not one of {headers['Allow']} on this path"
    if detail == _phrase(exc.status_code) and exc.status_code == 404:
        detail = f"no route {request.url.path}"
    p = problem(exc.status_code, detail, errors, kind, request.url.path)
    return problem_response(p, headers)


def _console_page(request: Request) -> bool:
    """A console page asked for by a browser without a sign-in: it goes to the sign-in page."""
    return request.method == "GET" and request.url.path.startswith("/console/")


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    p = problem(422, None, validation_errors(exc.errors()), "invalid", request.url.path)
    return problem_response(p)


#: The name of a route that only answers 405: where a literal path sits beside a parameter's
#: (`/api/applications/import.csv` beside `/api/applications/{application_no}`), the other
#: methods would otherwise reach the parameter's route and be refused there for its value.
NOT_ALLOWED = "method-not-allowed"


def allowed_methods(request: Request) -> list[str]:
    """The methods the request's path answers to. Where a literal path and a path with a
    parameter both match (`/api/staff/import`, `/api/staff/{code}`), the literal one names it,
    as the OpenAPI document does."""
    path = request.scope.get("path", "")
    matching = [(methods, literal) for regex, methods, literal in _routes(request.app)
                if regex.match(path)]  # fmt: skip
    if any(literal for _, literal in matching):
        matching = [m for m in matching if m[1]]
    found = {m for methods, _ in matching for m in methods}
    return [m for m in _METHODS if m in found]


def _routes(app: Any) -> list[tuple[re.Pattern[str], frozenset[str], bool]]:
    """(path regex, methods, literal) of every route, nested routers included; kept on the app."""
    table: list[tuple[re.Pattern[str], frozenset[str], bool]] | None = getattr(
        app.state, "route_table", None
    )
    if table is None:
        # Recent FastAPI keeps included routers nested; older versions list every route.
        flatten = getattr(fastapi.routing, "iter_route_contexts", None)
        routes = flatten(app.routes) if flatten is not None else app.routes
        table = [
            (r.path_regex, frozenset(r.methods), "{" not in r.path_format)
            for r in routes
            if getattr(r, "methods", None)
            and getattr(r, "path_regex", None) is not None
            and getattr(r, "name", None) != NOT_ALLOWED
        ]
        app.state.route_table = table
    return table


class CatchAll:
    """Unhandled exceptions answer a 500 problem and are logged; nothing of them reaches the
    caller. Placed inside Starlette's error middleware, which would answer in plain text and
    raise again."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            p = problem(500, "an internal error; it is logged", instance=scope.get("path"))
            await problem_response(p)(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_middleware(CatchAll)


# -- OpenAPI ----------------------------------------------------------------------------------

DESCRIPTIONS: dict[int, str] = {
    400: "Bad request",
    401: "No token, or an expired or tampered one: sign in (POST /api/auth/token)",
    403: "The signed-in member lacks the permission `errors` names (docs/access.md)",
    429: "Too many failed sign-ins; retry after `Retry-After` seconds",
    404: "Not found",
    409: "Conflicts with the current state",
    422: "Invalid request: `errors` names each field and why",
    500: "Internal error",
    503: "Temporal (or another service the answer needs) is unreachable; retry later",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status answered with a Problem."""
    return {s: {"model": Problem, "description": DESCRIPTIONS.get(s, _phrase(s))} for s in statuses}


def problem_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Every error response of every operation documented as `application/problem+json`
    with the Problem schema, 500 on all of them; FastAPI's own validation-error schemas go."""
    ref = {"$ref": "#/components/schemas/Problem"}
    for item in schema.get("paths", {}).values():
        for op in item.values():
            responses = op.setdefault("responses", {})
            responses.setdefault("500", {"description": DESCRIPTIONS[500]})
            for code, response in responses.items():
                if code.isdigit() and int(code) >= 400:
                    response["content"] = {PROBLEM_JSON: {"schema": ref}}
                    if response.get("description") == "Validation Error":
                        response["description"] = DESCRIPTIONS[422]
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    defs = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(defs.pop("$defs", {}))
    components["Problem"] = defs
    return schema
