"""The application profile: one frozen model whose JSON every workflow's start input records."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from policies.profile import ApplicationProfile, GridWorks

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))
CST = timezone(timedelta(hours=8))


def recorded_profiles() -> list[tuple[str, dict[str, Any]]]:
    """The profile inside each saved history's start input, as the history holds it."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in HISTORIES:
        first = json.loads(path.read_text())["events"][0]
        attrs = first["workflowExecutionStartedEventAttributes"]
        start = json.loads(base64.b64decode(attrs["input"]["payloads"][0]["data"]))
        if isinstance(start, dict) and "application" in start:
            found.append((path.stem, start["application"]["profile"]))
    return found


PROFILES = recorded_profiles()


def test_the_histories_hold_profiles() -> None:
    assert len(PROFILES) >= 10


@pytest.mark.parametrize(("name", "recorded"), PROFILES, ids=[name for name, _ in PROFILES])
def test_a_recorded_profile_reads_and_writes_back_the_same(
    name: str, recorded: dict[str, Any]
) -> None:
    profile = ApplicationProfile.model_validate(recorded)
    written = profile.model_dump(mode="json")
    # Older histories lack fields added since (with defaults): what they hold comes back as is.
    assert {k: written[k] for k in recorded} == recorded, name
    assert ApplicationProfile.model_validate_json(profile.model_dump_json()) == profile


def test_a_profile_is_frozen_and_hashable() -> None:
    profile = ApplicationProfile(
        unit="henan/sanmenxia",
        business_type="hv",
        voltage="10kV",
        grid_works=GridWorks(type="overhead_line"),
        accepted_at=datetime(2026, 11, 16, 9, tzinfo=CST),
        flags=("fee_settlement",),
    )
    with pytest.raises(ValidationError, match="frozen"):
        profile.voltage = "35kV"
    assert hash(profile) == hash(profile.model_copy())
    assert profile.model_dump(mode="json")["flags"] == ["fee_settlement"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unit", "Henan"),
        ("business_type", "factory"),
        ("voltage", "11kV"),
        ("channel", "pigeon"),
        ("accepted_at", "2026-11-16T09:00:00"),
        ("capacity_kva", -1),
        ("surprise", 1),
    ],
)
def test_bad_attributes_are_refused_by_name(field: str, value: Any) -> None:
    body = {
        "unit": "henan/sanmenxia",
        "business_type": "hv",
        "accepted_at": "2026-11-16T09:00:00+08:00",
        field: value,
    }
    with pytest.raises(ValidationError) as caught:
        ApplicationProfile.model_validate(body)
    assert field in {str(e["loc"][0]) for e in caught.value.errors()}
