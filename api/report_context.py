"""Where the reports find each unit's policy and calendar: the unit's pack (or its nearest
ancestor's: a supply station is judged by its county's), loaded once per report."""

from __future__ import annotations

from functools import lru_cache

from calendars.calendar import Calendar
from domain.start import calendar_for
from policies.loader import ROOT_UNIT, list_units, load_policy
from policies.schema import ResolvedPolicy


@lru_cache(maxsize=1)
def _pack_units() -> frozenset[str]:
    return frozenset(list_units())


def pack_unit(unit: str | None) -> str:
    """The unit itself if it has a pack, else its nearest ancestor that has one."""
    current = unit
    while current:
        if current in _pack_units():
            return current
        current = current.rpartition("/")[0]
    return ROOT_UNIT


class PackPolicies:
    """domain.reports.common.Policies over the pack files, cached per instance."""

    def __init__(self) -> None:
        self._policies: dict[str, ResolvedPolicy] = {}
        self._calendars: dict[str, Calendar] = {}

    def policy(self, unit: str) -> ResolvedPolicy:
        found = self._policies.get(unit)
        if found is None:
            found = self._policies[unit] = load_policy(pack_unit(unit))
        return found

    def calendar(self, unit: str) -> Calendar:
        found = self._calendars.get(unit)
        if found is None:
            # get_calendar caches per region and clock: units of one region share one object.
            found = self._calendars[unit] = calendar_for(self.policy(unit))
        return found
