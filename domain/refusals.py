"""A refused change, as the domain raises it: the refusal is a value (contracts.errors), and
the workflow turns it into the error Temporal carries to the caller."""

from __future__ import annotations

from contracts.errors import Refusal, RefusalType


class Refused(Exception):
    """A change the application refuses; nothing was recorded."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal

    @classmethod
    def one(cls, type: RefusalType, field: str, reason: str) -> Refused:
        return cls(Refusal.one(type, field, reason))
