"""The per-process cache of calendars loaded from the data files, which follows the files.

Every long-running process (the worker's send windows, each API process's previews and start
inputs) asks `get_calendar()`; a cached calendar looks at its files' metadata again at most
every few seconds and re-reads them when they changed, so newly deployed data reaches every
process without a restart or a message to each (docs/calendars.md, "Publishing").
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from calendars.calendar import DEFAULT_TZ, Calendar
from calendars.clock import Clock, ClockConfig
from calendars.errors import CalendarDataError
from calendars.loader import checked_region, data_dir, load_region, region_chain

log = logging.getLogger(__name__)

#: How often (seconds) a cached calendar looks at its files again; 0 checks on every call.
RECHECK_ENV = "CALENDARS_RECHECK_SECONDS"
DEFAULT_RECHECK_SECONDS = 5.0

ClockSpec = ClockConfig | str | Clock | None
Fingerprint = tuple[tuple[str, int, int, int], ...]
_CacheKey = tuple[str, str, str, bool, str]


@dataclass
class _Cached:
    calendar: Calendar
    #: What the files looked like just before they were read.
    fingerprint: Fingerprint
    #: time.monotonic() of the last look at the files.
    checked: float


_lock = threading.Lock()
_cache: dict[_CacheKey, _Cached] = {}


def recheck_seconds() -> float:
    """The re-check interval: $CALENDARS_RECHECK_SECONDS, else 5 s."""
    raw = os.environ.get(RECHECK_ENV, "")
    try:
        value = float(raw) if raw.strip() else DEFAULT_RECHECK_SECONDS
    except ValueError:
        raise ValueError(f"{RECHECK_ENV} must be a number of seconds, got {raw!r}") from None
    return max(value, 0.0)


def fingerprint(region: str, root: Path | None = None) -> Fingerprint:
    """What the region's data files look like, from their metadata alone (no reading):
    (name, mtime_ns, size, inode) of each folder of the chain and each of its files. A folder's
    mtime moves when a file is added, removed or renamed into place; a file's when it is
    written. A few stat() calls, so a long-running process can ask every few seconds."""
    root = root if root is not None else data_dir()
    region = checked_region(region)
    seen: list[tuple[str, int, int, int]] = []
    for level in region_chain(region):
        folder = root / level
        try:
            st = folder.stat()
        except FileNotFoundError:
            seen.append((level, -1, -1, -1))
            continue
        seen.append((level, st.st_mtime_ns, st.st_size, st.st_ino))
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.endswith(".toml"):
                    est = entry.stat()
                    seen.append((f"{level}/{entry.name}", est.st_mtime_ns, est.st_size, est.st_ino))
    return tuple(seen)


def _clock_key(clock: ClockSpec) -> tuple[ClockSpec, str]:
    if clock is None or isinstance(clock, str):
        return clock, str(clock)
    if isinstance(clock, ClockConfig):
        return clock, clock.model_dump_json()
    return clock, clock.config.model_dump_json()


def get_calendar(
    region: str = "CN",
    *,
    clock: ClockSpec = None,
    tz: str = DEFAULT_TZ,
    strict: bool = False,
    reload: bool = False,
    root: Path | None = None,
) -> Calendar:
    """The calendar of a region, loaded once and cached (reload=True re-reads the files).

    A cached calendar looks at its files' metadata again at most every `recheck_seconds()`
    and re-reads them when they changed, so a long-running process (the worker, every API
    process) follows newly deployed data without a restart. If the changed files do not load,
    the last good calendar stays in use until they are fixed (publishing refuses them with
    their path and line); an explicit reload raises instead.
    """
    folder = root if root is not None else data_dir()
    spec, clock_id = _clock_key(clock)
    key = (checked_region(region), clock_id, tz, strict, str(folder))
    now = time.monotonic()
    with _lock:
        cached = _cache.get(key)
    if cached is not None and not reload:
        if now - cached.checked < recheck_seconds():
            return cached.calendar
        current = fingerprint(region, folder)
        if current == cached.fingerprint:
            cached.checked = now
            return cached.calendar
        try:
            return _load(key, region, folder, spec, tz, strict, current, now)
        except (CalendarDataError, OSError) as exc:
            # Remember the broken state, so it is not read again until the files change.
            cached.fingerprint, cached.checked = current, now
            log.warning(
                "calendar %s: changed data files do not load, keeping %s: %s",
                key[0],
                cached.calendar.version,
                exc,
            )
            return cached.calendar
    return _load(key, region, folder, spec, tz, strict, fingerprint(region, folder), now)


def _load(
    key: _CacheKey,
    region: str,
    folder: Path,
    clock: ClockSpec,
    tz: str,
    strict: bool,
    seen: Fingerprint,
    now: float,
) -> Calendar:
    # `seen` was taken before the read: a file written during it differs next time.
    data = load_region(region, folder)
    cal = Calendar(
        region=data.region,
        version=data.version,
        published_years=data.published_years,
        holidays=data.holidays,
        makeup_workdays=data.makeup_workdays,
        tz=tz,
        clock=clock,
        strict=strict,
        sources=data.sources,
    )
    with _lock:
        _cache[key] = _Cached(cal, seen, now)
    return cal


def reload() -> None:
    """Forget every cached calendar, so the next get_calendar() reads the files again."""
    with _lock:
        _cache.clear()
