"""The status's monitors are the contract's own view, not the engine's output model: rows the
read model stored before (the engine's MonitorOut, every field required) still read, and a
field the engine adds cannot break reading them."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from contracts.application import ApplicationStart, ApplicationStatus
from contracts.monitor import (
    ElapsedView,
    MonitorView,
    PauseView,
    ThresholdView,
    TooShortView,
)
from domain.answers import monitor_views
from domain.ledger import ApplicationLedger
from policies.engine import Elapsed, MonitorOut, PauseOut, Threshold, TooShortOut

STORED = Path(__file__).parent / "stored" / "final_status_with_engine_monitors.json"
HISTORIES = Path(__file__).parent / "histories"


def test_a_final_status_stored_with_the_engines_monitors_still_reads() -> None:
    raw: dict[str, Any] = json.loads(STORED.read_text())
    status = ApplicationStatus.model_validate(raw)
    assert status.state == "completed" and len(status.monitors) == len(raw["monitors"])
    assert all(isinstance(m, MonitorView) for m in status.monitors)
    # Nothing is lost on the way: the view gives back every field the row held.
    again = json.loads(status.model_dump_json())
    assert again["monitors"] == raw["monitors"]
    assert any(m.pauses for m in status.monitors) and any(m.too_short for m in status.monitors)


def test_a_row_missing_fields_reads_with_their_defaults() -> None:
    """A field added to the view later is absent from the rows stored before it."""
    raw: dict[str, Any] = json.loads(STORED.read_text())
    for m in raw["monitors"]:
        for key in ("notes", "flags", "sources", "calendar_version", "recipients", "elapsed"):
            m.pop(key, None)
        for t in m["thresholds"]:
            t.pop("recipients", None)
    status = ApplicationStatus.model_validate(raw)
    assert status.monitors[0].notes == [] and status.monitors[0].calendar_version == ""


def test_the_view_has_every_field_the_engine_gives() -> None:
    """A field added to the engine's output gets its view field (with a default) too, or the
    status would drop it."""
    pairs: list[tuple[type[BaseModel], type[BaseModel]]] = [
        (MonitorOut, MonitorView),
        (Threshold, ThresholdView),
        (PauseOut, PauseView),
        (Elapsed, ElapsedView),
        (TooShortOut, TooShortView),
    ]
    for engine, view in pairs:
        assert set(engine.model_fields) <= set(view.model_fields), view.__name__


def test_the_status_is_built_from_the_engines_evaluation() -> None:
    """The view converts the engine's output field for field (a recorded start input)."""
    history = json.loads((HISTORIES / "hv_10kv_lifecycle_one_write.json").read_text())
    attrs = history["events"][0]["workflowExecutionStartedEventAttributes"]
    payload = attrs["input"]["payloads"][0]["data"]
    start = ApplicationStart.model_validate_json(base64.b64decode(payload))
    at = start.application.profile.accepted_at + timedelta(days=2)
    book = ApplicationLedger(start, at)
    ev = book.evaluate(at)
    views = monitor_views(ev)
    assert [v.model_dump(mode="json") for v in views] == [
        m.model_dump(mode="json") for m in ev.monitors
    ]
