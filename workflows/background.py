"""One step at a time beside the application's main loop: a step module (plans, outages,
notices) starts its activity and what follows it as a background task, so the loop keeps
judging deadlines while the activity waits on the database; the loop waits for it before
continue-as-new or closing, and a step that changed something wakes the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from temporalio import workflow


class BackgroundSteps:
    def __init__(self) -> None:
        #: One step's activity and its recording at a time (updates take it too).
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def _in_background(self, step: Coroutine[Any, Any, bool], wake: Callable[[], None]) -> None:
        self._task = asyncio.create_task(self._background(step, wake))

    async def _background(self, step: Coroutine[Any, Any, bool], wake: Callable[[], None]) -> None:
        try:
            if await step:
                wake()
        finally:
            self._task = None

    async def settled(self) -> None:
        """Wait for a background step (before continue-as-new, or closing)."""
        await workflow.wait_condition(lambda: self._task is None)
