"""The worker's collector settings (core/gc_tuning.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from core.gc_tuning import THRESHOLDS, tune_gc


@pytest.fixture
def restore_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restore_gc")
def test_tune_gc_freezes_what_is_loaded_and_raises_the_thresholds() -> None:
    gc.unfreeze()
    tune_gc()
    assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() > 0
