"""Payloads encrypted before they reach Temporal: AES-GCM (256-bit keys) with a key id.

Workflow inputs carry the customer's name, phone and address; with `PAYLOAD_KEYS` set, every
client and worker (core.temporal.connect) encrypts every payload it sends and decrypts what it
reads, so the server, its database and its UI hold only ciphertext. Operators read payloads
through the codec server (`/codec/decode`, api/routes/codec.py) from Temporal UI or the CLI.

`PAYLOAD_KEYS` is `kid:base64key,kid:base64key,...`: the first key encrypts, all of them
decrypt (rotation: put a new key first, keep the old ones until no history needs them). A
payload that is not encrypted (histories from before, the replay tests' saved histories)
passes through decoding unchanged. Search attributes and memos' keys are never encrypted:
they hold no personal data (DESIGN.md §5).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class PayloadKeyError(ValueError):
    """PAYLOAD_KEYS is malformed, or a payload names a key this process does not hold."""


def parse_keys(text: str) -> list[tuple[str, bytes]]:
    """`kid:base64key,...` as (kid, key) pairs, in order; the reason names the entry, never
    the key."""
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate(part.strip() for part in text.split(",") if part.strip()):
        kid, sep, encoded = entry.partition(":")
        if not sep or not kid:
            raise PayloadKeyError(f"PAYLOAD_KEYS entry {position + 1}: not kid:base64key")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise PayloadKeyError(f"PAYLOAD_KEYS key {kid}: not base64") from None
        if len(key) != 32:
            raise PayloadKeyError(f"PAYLOAD_KEYS key {kid}: {len(key)} bytes, a 256-bit key has 32")
        if any(kid == k for k, _ in keys):
            raise PayloadKeyError(f"PAYLOAD_KEYS key {kid}: given twice")
        keys.append((kid, key))
    if not keys:
        raise PayloadKeyError("PAYLOAD_KEYS is empty")
    return keys


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: Sequence[tuple[str, bytes]]) -> None:
        if not keys:
            raise PayloadKeyError("an encryption codec needs at least one key")
        self.encrypt_with = keys[0][0]
        self._ciphers = {kid: AESGCM(key) for kid, key in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self._ciphers[self.encrypt_with]
        kid = self.encrypt_with.encode()
        out = []
        for p in payloads:
            nonce = os.urandom(NONCE_BYTES)
            # The key id is authenticated too: a payload cannot be moved under another key.
            sealed = cipher.encrypt(nonce, p.SerializeToString(), kid)
            out.append(Payload(metadata={"encoding": ENCODING, KEY_ID: kid}, data=nonce + sealed))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        out = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCODING:
                out.append(p)  # never encrypted: passes through
                continue
            kid = p.metadata.get(KEY_ID, b"").decode()
            cipher = self._ciphers.get(kid)
            if cipher is None:
                raise PayloadKeyError(f"payload encrypted with key {kid!r}, not in PAYLOAD_KEYS")
            plain = cipher.decrypt(p.data[:NONCE_BYTES], p.data[NONCE_BYTES:], kid.encode())
            out.append(Payload.FromString(plain))
        return out


def codec_from(text: str | None) -> EncryptionCodec | None:
    return EncryptionCodec(parse_keys(text)) if text else None


def data_converter(payload_keys: str | None) -> DataConverter:
    """The project's converter (pydantic), encrypting when keys are given."""
    codec = codec_from(payload_keys)
    if codec is None:
        return pydantic_data_converter
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)
