"""The approval system's and the market regulator's webhooks (Standard Webhooks).

Each delivery is checked, stored, answered and handed to Temporal, in that order:
1. the signature (`webhook-id`, `webhook-timestamp`, `webhook-signature`) with the
   integration's secret, by the `standardwebhooks` package; a bad or missing one, or a
   timestamp more than 5 minutes off, is 401 and nothing is stored;
2. a `webhook-id` already stored gets its first answer again, and nothing else happens;
3. a body that is not the kind's JSON is stored as rejected and answered 422 naming the field;
4. otherwise it is stored, answered 202, and its workflow started (api.integrations_dispatch):
   when Temporal cannot take it, it stays stored as failed for an operator to replay
   (`POST /api/integrations/deliveries/{id}/replay`), and a stopped worker simply picks the
   started workflow up when it comes back.
"""

from __future__ import annotations

import asyncio
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from api.auth import PUBLIC
from api.deps import EngineDep, SettingsDep, TemporalDep
from api.integrations_dispatch import BODIES, hand_over, unknown_unit
from api.problems import ProblemError, problem, problem_response, problems
from api.validation import field_errors
from contracts.integrations import (
    BusinessRegistered,
    DeliveryAnswer,
    DeliveryKind,
    PermitDecided,
    ProjectApproved,
)
from readmodel import integrations as store

#: No staff token: each delivery is checked against its integration's signature instead.
router = APIRouter(prefix="/webhooks", tags=["webhooks"], dependencies=[PUBLIC])

#: A delivery larger than this is refused before its signature is checked.
MAX_BODY_BYTES = 64 * 1024
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
DELIVERIES = "/api/integrations/deliveries"


def _unauthorized(reason: str, instance: str) -> Response:
    err = ProblemError(field="webhook-signature", reason=reason, location="header")
    p = problem(401, errors=[err], instance=instance)
    return problem_response(p, headers={"WWW-Authenticate": 'Signature realm="webhooks"'})


def _verified(secret: str | None, body: bytes, request: Request) -> str | None:
    """Why the delivery is not authentic, or None."""
    if not secret:
        return "no secret is configured for this integration"
    headers = {h: request.headers.get(h, "") for h in SIGNATURE_HEADERS}
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError as exc:
        return f"not verified: {exc}"
    except (ValueError, binascii.Error):
        return "not verified: malformed signature headers or body"
    return None


def _parse(model: type[BaseModel], body: bytes) -> tuple[Any, BaseModel | None, list[ProblemError]]:
    """(the JSON value or None, the valid body or None, the errors naming the fields)."""
    try:
        raw = json.loads(body)
    except ValueError:
        return None, None, [ProblemError(field="body", reason="not JSON", location="body")]
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        return raw, None, field_errors(exc)
    reason = unknown_unit(parsed)
    if reason is not None:
        return raw, None, [ProblemError(field="unit", reason=reason, location="body")]
    return raw, parsed, []


async def receive(
    request: Request,
    kind: DeliveryKind,
    secret: str | None,
    settings: Any,
    engine: Any,
    temporal: Any,
) -> Response:
    body = await request.body()
    path = request.url.path
    if len(body) > MAX_BODY_BYTES:
        reason = f"larger than {MAX_BODY_BYTES} bytes"
        err = ProblemError(field="body", reason=reason, location="body")
        return problem_response(problem(413, errors=[err], instance=path))
    why = _verified(secret, body, request)
    if why is not None:
        return _unauthorized(why, path)
    webhook_id = request.headers["webhook-id"][:128]
    # The database calls run off the event loop: other deliveries are answered meanwhile.
    found = await asyncio.to_thread(store.find_delivery, engine, kind, webhook_id)
    if found is not None:
        return _answer(found)
    raw, parsed, errors = _parse(BODIES[kind], body)
    now = datetime.now(UTC)
    row = store.DeliveryRow(
        webhook_id=webhook_id,
        kind=kind,
        received_at=now,
        status="rejected" if errors else "received",
        answer_status=422 if errors else 202,
        body=raw,
        updated_at=now,
    )
    answer: Callable[[int], dict[str, Any]]
    if errors:
        p = problem(422, errors=errors, instance=path).model_dump(mode="json", exclude_none=True)
        answer = lambda _id: p  # noqa: E731
    else:
        answer = lambda n: DeliveryAnswer(  # noqa: E731
            delivery=n,
            kind=kind,
            href=f"{DELIVERIES}/{n}",
        ).model_dump(mode="json")
    stored, new = await asyncio.to_thread(store.store_delivery, engine, row, answer)
    if new and parsed is not None and stored.id is not None:
        await hand_over(engine, temporal, settings.temporal_task_queue, stored.id, kind, raw)
    return _answer(stored)


def _answer(row: store.DeliveryRow) -> Response:
    media = "application/problem+json" if row.answer_status >= 400 else "application/json"
    return JSONResponse(row.answer, status_code=row.answer_status, media_type=media)


def _secret(value: Any) -> str | None:
    return None if value is None else str(value.get_secret_value())


WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": DeliveryAnswer, "description": "Stored; its work goes to Temporal"},
    **problems(401, 413, 422),
}


BODY_MODELS: tuple[type[BaseModel], ...] = (ProjectApproved, PermitDecided, BusinessRegistered)
COMPONENTS = "#/components/schemas/{model}"


def _doc(model: type[BaseModel]) -> dict[str, Any]:
    """The body as the OpenAPI document declares it: read by the route itself, after the
    signature is checked, so FastAPI does not declare it (`body_schemas` adds the model)."""
    ref = {"$ref": COMPONENTS.format(model=model.__name__)}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def body_schemas(schema: dict[str, Any]) -> dict[str, Any]:
    """The webhooks' body models in the document's components (those already there kept)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in BODY_MODELS:
        found = model.model_json_schema(ref_template=COMPONENTS)
        for name, sub in found.pop("$defs", {}).items():
            components.setdefault(name, sub)
        components[model.__name__] = found
    return schema


@router.post(
    "/approval/projects",
    status_code=202,
    responses=WEBHOOK_RESPONSES,
    openapi_extra=_doc(ProjectApproved),
)
async def project_approved(
    request: Request, settings: SettingsDep, engine: EngineDep, temporal: TemporalDep
) -> Response:
    """A project the approval system approved: becomes a reserve project (`ReserveProject`
    workflow `reserve-<id>`) with a preliminary plan. Signed with APPROVAL_WEBHOOK_SECRET."""
    secret = _secret(settings.approval_webhook_secret)
    return await receive(request, "project", secret, settings, engine, temporal)


@router.post(
    "/approval/permits",
    status_code=202,
    responses=WEBHOOK_RESPONSES,
    openapi_extra=_doc(PermitDecided),
)
async def permit_decided(
    request: Request, settings: SettingsDep, engine: EngineDep, temporal: TemporalDep
) -> Response:
    """An administrative approval's result for an application's outside line, recorded on the
    application's `admin_approval` stage. Signed with APPROVAL_WEBHOOK_SECRET."""
    secret = _secret(settings.approval_webhook_secret)
    return await receive(request, "permit", secret, settings, engine, temporal)


@router.post(
    "/registrations",
    status_code=202,
    responses=WEBHOOK_RESPONSES,
    openapi_extra=_doc(BusinessRegistered),
)
async def business_registered(
    request: Request, settings: SettingsDep, engine: EngineDep, temporal: TemporalDep
) -> Response:
    """A new small or micro business: proposed to the unit's customer managers as a
    `lv_small_micro` application (主动办电). Signed with REGISTRATION_WEBHOOK_SECRET."""
    secret = _secret(settings.registration_webhook_secret)
    return await receive(request, "registration", secret, settings, engine, temporal)
