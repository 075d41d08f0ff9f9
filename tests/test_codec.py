"""The payload codec (core/codec.py) and the codec server (api/routes/codec.py): round trip,
rotation, plain payloads passing through, tampering refused; saved histories still replay with
the encrypting converter; the server for operators only, with CORS for the UI alone."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from api.app import attach, create_app
from core.codec import (
    ENCODING,
    KEY_ID,
    EncryptionCodec,
    PayloadKeyError,
    data_converter,
    parse_keys,
)
from core.config import Settings
from core.security import create_token
from readmodel.demo_org import seed_demo_org
from readmodel.organisation import StaffRow
from tests.support import secured
from worker import WORKFLOWS

OLD = ("k1", bytes(range(32)))
NEW = ("k2", bytes(range(32, 64)))
HISTORIES = Path(__file__).parent / "histories"


def keys_text(*keys: tuple[str, bytes]) -> str:
    return ",".join(f"{kid}:{base64.b64encode(key).decode()}" for kid, key in keys)


def plain(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(text).encode())


async def test_round_trip_holds_only_ciphertext() -> None:
    codec = EncryptionCodec([OLD])
    original = [plain("张三 13800001234"), plain("")]
    sealed = await codec.encode(original)
    for p in sealed:
        assert p.metadata["encoding"] == ENCODING and p.metadata[KEY_ID] == b"k1"
        assert "张三".encode() not in p.SerializeToString()
    assert await codec.decode(sealed) == original
    # A fresh nonce each time: the same payload never encrypts the same way twice.
    assert (await codec.encode(original))[0].data != sealed[0].data


async def test_rotation_newest_encrypts_older_still_decrypt() -> None:
    before = await EncryptionCodec([OLD]).encode([plain("old")])
    rotated = EncryptionCodec([NEW, OLD])
    after = await rotated.encode([plain("new")])
    assert after[0].metadata[KEY_ID] == b"k2"
    assert await rotated.decode(before + after) == [plain("old"), plain("new")]
    with pytest.raises(PayloadKeyError, match="k2"):
        await EncryptionCodec([OLD]).decode(after)


async def test_plain_payloads_pass_through_and_tampering_is_refused() -> None:
    codec = EncryptionCodec([OLD])
    assert await codec.decode([plain("x")]) == [plain("x")]
    sealed = (await codec.encode([plain("x")]))[0]
    flipped = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + b"\0")
    with pytest.raises(Exception):  # noqa: B017 (AES-GCM's InvalidTag)
        await codec.decode([flipped])
    moved = Payload(metadata={**sealed.metadata, KEY_ID: b"k2"}, data=sealed.data)
    with pytest.raises(Exception):  # noqa: B017 (the key id is authenticated)
        await EncryptionCodec([NEW, ("k2x", OLD[1])]).decode([moved])


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("k1", "kid:base64key"),
        ("k1:***", "base64"),
        (f"k1:{base64.b64encode(b'short').decode()}", "32"),
        (keys_text(OLD, OLD), "twice"),
    ],
)
def test_malformed_keys_are_refused_without_echoing_them(text: str, reason: str) -> None:
    with pytest.raises(PayloadKeyError, match=reason) as err:
        parse_keys(text)
    assert base64.b64encode(OLD[1]).decode() not in str(err.value)


async def test_saved_histories_replay_with_the_encrypting_converter() -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(keys_text(NEW, OLD)))
    files = sorted(HISTORIES.glob("*.json"))
    assert files
    for path in files[:6]:
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        await replayer.replay_workflow(history)


# -- the codec server ----------------------------------------------------------------------------


@pytest.fixture
def server(db_engine: Engine, tmp_path: Path) -> tuple[TestClient, Settings]:
    seed_demo_org(db_engine)
    with Session(db_engine) as s:
        for code, role in (("op-1", "operator"), ("cm-1", "customer_manager")):
            s.add(StaffRow(code=code, name="测试", roles=[role], unit="henan", phone="13800009998"))
        s.commit()
    settings = Settings(
        data_dir=tmp_path,
        jwt_secret=SecretStr("codec-tests-signing-key-0123456789abc"),
        payload_keys=SecretStr(keys_text(NEW, OLD)),
        codec_cors_origins="http://ui.example:8233",
    )
    app = secured(create_app(settings))
    attach(app, settings, db_engine, None)  # type: ignore[arg-type]
    return TestClient(app), settings


def as_json(payloads: list[Payload]) -> dict[str, list[dict[str, object]]]:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


async def test_the_codec_server_decodes_for_operators_only(
    server: tuple[TestClient, Settings],
) -> None:
    client, settings = server
    sealed = await EncryptionCodec([OLD]).encode([plain("李四")])
    body = as_json([*sealed, plain("open")])
    operator = {"Authorization": f"Bearer {create_token(settings, 'op-1').access_token}"}
    r = client.post("/codec/decode", json=body, headers=operator)
    assert r.status_code == 200, r.text
    assert r.json() == as_json([plain("李四"), plain("open")])
    empty = client.post("/codec/decode", json={"payloads": []}, headers=operator)
    assert empty.status_code == 200 and empty.json() == {"payloads": []}
    encoded = client.post("/codec/encode", json=as_json([plain("王五")]), headers=operator)
    assert encoded.status_code == 200
    first = encoded.json()["payloads"][0]
    assert base64.b64decode(first["metadata"][KEY_ID]) == b"k2"
    cm = {"Authorization": f"Bearer {create_token(settings, 'cm-1').access_token}"}
    refused = client.post("/codec/decode", json=body, headers=cm)
    assert refused.status_code == 403 and "codec.use" in refused.text
    assert client.post("/codec/decode", json=body).status_code == 401
    # The sign-in cookie counts here (Temporal UI sends it with "include credentials").
    client.cookies.set("console_token", create_token(settings, "op-1").access_token)
    assert client.post("/codec/decode", json=body).status_code == 200
    assert client.get("/api/audit").status_code == 401  # but nowhere else
    client.cookies.clear()
    broken = {"payloads": [{**body["payloads"][0], "data": base64.b64encode(b"x" * 40).decode()}]}
    bad = client.post("/codec/decode", json=broken, headers=operator)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "payloads"


def test_cors_lets_the_ui_origin_call_the_codec_and_nothing_else(
    server: tuple[TestClient, Settings],
) -> None:
    client, _ = server
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace",
    }
    ok = client.options("/codec/decode", headers={"Origin": "http://ui.example:8233", **preflight})
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "http://ui.example:8233"
    assert ok.headers["access-control-allow-credentials"] == "true"
    other = client.options("/codec/decode", headers={"Origin": "http://evil.example", **preflight})
    assert "access-control-allow-origin" not in other.headers
    api = client.options("/api/audit", headers={"Origin": "http://ui.example:8233", **preflight})
    assert "access-control-allow-origin" not in api.headers
