"""One convention for instants in answers: the zone of the application's unit, with its
offset (`2026-09-21T10:00:00+08:00`), whatever zone the instant was recorded or stored in.

The unit's zone is its policy's `timezone` (national: Asia/Shanghai); answers that belong to
no unit use the deployment's TIMEZONE. docs/api.md states the convention.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from policies.loader import load_policy

log = logging.getLogger(__name__)
T = TypeVar("T")


def zone_of(unit: str | None, fallback: str) -> ZoneInfo:
    name = _unit_zone(unit) if unit else None
    return ZoneInfo(name or fallback)


@lru_cache(maxsize=512)
def _unit_zone(unit: str) -> str | None:
    try:
        return load_policy(unit).settings.timezone
    except Exception:
        # A row whose unit has no pack any more: the deployment's zone still gives an offset.
        log.warning("no policy zone for unit %s; using the deployment's", unit)
        return None


def localised(value: T, tz: tzinfo) -> T:
    """`value` with every aware datetime in it (fields of models, items of lists and dicts)
    shown in `tz`; the instants are unchanged."""
    out: Any = _local(value, tz)
    return out  # type: ignore[no-any-return]


def _local(value: Any, tz: tzinfo) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(tz) if value.tzinfo is not None else value
    if isinstance(value, BaseModel):
        updates = {}
        for name in type(value).model_fields:
            old = getattr(value, name)
            new = _local(old, tz)
            if new is not old:
                updates[name] = new
        return value.model_copy(update=updates) if updates else value
    if isinstance(value, list):
        items = [_local(v, tz) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        mapped = {k: _local(v, tz) for k, v in value.items()}
        return mapped if any(mapped[k] is not value[k] for k in value) else value
    return value
