"""Every saved history must replay on the current workflow code.

A failure here means a change to workflow code would break running applications: make the
change compatible (workflow.patched) instead of re-recording over the old history.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from worker import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_there_is_a_history_for_every_workflow_type() -> None:
    recorded = {p.read_text() for p in HISTORIES}
    for wf in WORKFLOWS:
        name = wf.__temporal_workflow_definition.name  # type: ignore[attr-defined]
        assert any(f'"name": "{name}"' in text or f'"name":"{name}"' in text for text in recorded)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
