"""Hooks the schemathesis run loads (SCHEMATHESIS_HOOKS): the import's JSON lines body is text,
sent as the generated string is, as schemathesis sends text/plain."""

from __future__ import annotations

import schemathesis

schemathesis.serializer.alias("application/jsonl", "text/plain")
