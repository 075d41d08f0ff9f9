"""Garbage-collector settings for the worker process.

Every workflow activation allocates many short-lived objects (payloads, pydantic models, the
engine's outputs), so with CPython's default thresholds (700, 10, 10) the collector ran about
seven young collections per application lifecycle, and full collections walked every policy,
calendar and cached workflow in the process: 8 ms of CPU per application in
bench/workflow_bench.py, against 1.8 ms with these settings, for about 8 MiB more resident
memory over the run. Rarer full collections (x50, x100) saved a little more CPU but let the
SDK's garbage cycles pile up (+75 MiB), so the older generations keep CPython's ratios.
"""

from __future__ import annotations

import gc

#: Young-generation threshold, then how many young (resp. middle) collections trigger the next.
THRESHOLDS = (10_000, 10, 10)


def tune_gc() -> None:
    """Collect less often, and move what exists now (modules, policies, calendars loaded at
    start) out of the collector's sight: it lives as long as the process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
