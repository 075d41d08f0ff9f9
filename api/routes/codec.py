"""The codec server: Temporal UI and the `temporal` CLI send payloads here to see them
decrypted (`POST /codec/decode`) or to encrypt what an operator types (`POST /codec/encode`),
with the keys of PAYLOAD_KEYS (core/codec.py). Temporal's remote codec protocol: a JSON body
`{"payloads": [{"metadata": {name: base64}, "data": base64}]}`, answered in the same shape.

Operators only (`codec.use`): a bearer token (the CLI's `--codec-auth "Bearer <token>"`), or
the console's sign-in cookie (Temporal UI with "include cross-origin credentials"). CORS lets
the UI's origins (CODEC_CORS_ORIGINS) call these two routes, and no other.
"""

from __future__ import annotations

import base64
import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload, Payloads

from api.auth import require
from api.deps import SettingsDep
from api.problems import problems
from core.codec import EncryptionCodec, PayloadKeyError, codec_from

log = logging.getLogger(__name__)

PREFIX = "/codec"
router = APIRouter(prefix=PREFIX, tags=["operations"], dependencies=[require("codec.use")])

Base64 = Annotated[
    str,
    Field(
        max_length=4_000_000,
        pattern=r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
        description="Bytes, base64 (standard alphabet, padded)",
    ),
]


class PayloadJSON(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, Base64] = Field(default_factory=dict)
    data: Base64 = ""


class PayloadsJSON(BaseModel):
    """Temporal's Payloads message in its JSON form (bytes as base64)."""

    model_config = ConfigDict(extra="forbid")

    payloads: list[PayloadJSON] = Field(max_length=10_000)


def _codec(request: Request, keys: str | None) -> EncryptionCodec | None:
    cached: tuple[str | None, EncryptionCodec | None] | None = getattr(
        request.app.state, "payload_codec", None
    )
    if cached is None or cached[0] != keys:
        cached = (keys, codec_from(keys))
        request.app.state.payload_codec = cached
    return cached[1]


def _parse(body: PayloadsJSON) -> Payloads:
    try:
        parsed: Payloads = json_format.ParseDict(body.model_dump(), Payloads())
    except json_format.ParseError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={"field": "payloads", "reason": "not base64 payloads"},
        ) from None
    return parsed


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _answer(payloads: list[Payload]) -> PayloadsJSON:
    return PayloadsJSON(
        payloads=[
            PayloadJSON(metadata={k: _b64(v) for k, v in p.metadata.items()}, data=_b64(p.data))
            for p in payloads
        ]
    )


async def _convert(request: Request, settings: SettingsDep, body: PayloadsJSON, how: str) -> Any:
    keys = settings.payload_keys.get_secret_value() if settings.payload_keys else None
    codec = _codec(request, keys)
    payloads = list(_parse(body).payloads)
    if codec is None:
        return _answer(payloads)  # nothing is encrypted without keys
    try:
        converted = await (codec.encode if how == "encode" else codec.decode)(payloads)
    except PayloadKeyError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={"field": "payloads", "reason": str(exc)},
        ) from None
    except Exception:
        # A tampered or truncated payload: AES-GCM refuses it. Nothing of it is logged.
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail={"field": "payloads", "reason": "a payload does not decrypt"},
        ) from None
    return _answer(converted)


@router.post("/decode", response_model=PayloadsJSON, responses=problems(422))
async def decode(request: Request, settings: SettingsDep, body: PayloadsJSON) -> PayloadsJSON:
    """Decrypt the payloads that are encrypted; the others come back as they are."""
    answer: PayloadsJSON = await _convert(request, settings, body, "decode")
    return answer


@router.post("/encode", response_model=PayloadsJSON, responses=problems(422))
async def encode(request: Request, settings: SettingsDep, body: PayloadsJSON) -> PayloadsJSON:
    """Encrypt with the newest key (what a client would send to Temporal)."""
    answer: PayloadsJSON = await _convert(request, settings, body, "encode")
    return answer


class CodecCORS:
    """CORS for the codec routes only: the UI's origins may call them with credentials; every
    other route keeps the browser's same-origin rule."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_credentials=True,
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(PREFIX + "/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
