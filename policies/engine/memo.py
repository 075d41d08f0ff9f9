"""The memo an application's evaluations share: what its next events cannot change."""

from __future__ import annotations

from typing import Any

#: A memo's entries: keys are tuples led by what they hold ("dues", "pending", "stopped", ...).
MemoEntries = dict[tuple[Any, ...], Any]


class EvaluationMemo:
    """What an application's evaluation computed that its next events cannot change (due
    instants; the outputs of pending and stopped monitors), kept between its evaluations:
    the workflow evaluates on every event, and most monitors do not move.

    Bound to the (policy, calendar, application) objects it was filled for: given others, it
    starts afresh, so a new calendar version can never be answered from the old one's memo.
    """

    __slots__ = ("_entries", "_owner")

    # Pauses and resumes make new keys; a long-lived application's memo stays bounded.
    MAX_ENTRIES = 512

    def __init__(self) -> None:
        self._owner: tuple[object, object, object] | None = None
        self._entries: MemoEntries = {}

    def entries_for(self, policy: object, calendar: object, application: object) -> MemoEntries:
        owner = self._owner
        if (
            owner is None
            or owner[0] is not policy
            or owner[1] is not calendar
            or owner[2] is not application
            or len(self._entries) > self.MAX_ENTRIES
        ):
            self._owner = (policy, calendar, application)
            self._entries = {}
        return self._entries
