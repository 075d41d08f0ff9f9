"""`make run`'s webhook secrets: generated in the Standard Webhooks form when the environment
has none, kept across restarts, and never replacing one the environment gives."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from launcher import WEBHOOK_SECRETS, WEBHOOK_SECRETS_FILE, ensure_webhook_secrets


def test_generated_once_kept_and_usable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Set empty through monkeypatch, so whatever the launcher puts there is undone afterwards.
    for name in WEBHOOK_SECRETS:
        monkeypatch.setenv(name, "")
    first = ensure_webhook_secrets(tmp_path)
    assert set(first) == set(WEBHOOK_SECRETS)
    for value in first.values():
        assert value.startswith("whsec_") and len(base64.b64decode(value[6:])) == 32
        Webhook(value)  # the package accepts it
    assert (tmp_path / WEBHOOK_SECRETS_FILE).stat().st_mode & 0o077 == 0
    for name in WEBHOOK_SECRETS:
        monkeypatch.setenv(name, "")
    assert ensure_webhook_secrets(tmp_path) == first  # a restart keeps the sender's copy valid


def test_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    given = "whsec_" + base64.b64encode(b"x" * 32).decode()
    monkeypatch.setenv("APPROVAL_WEBHOOK_SECRET", given)
    monkeypatch.setenv("REGISTRATION_WEBHOOK_SECRET", "")
    chosen = ensure_webhook_secrets(tmp_path)
    assert list(chosen) == ["REGISTRATION_WEBHOOK_SECRET"]
    assert os.environ["APPROVAL_WEBHOOK_SECRET"] == given
