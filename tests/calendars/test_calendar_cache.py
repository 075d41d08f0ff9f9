"""The per-process calendar cache follows the data files (calendars/cache.py).

A worker or API process that loaded a calendar must see newly deployed data without a restart
and without anyone calling reload() in that process: publishing runs in another process.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from calendars import CalendarDataError, get_calendar
from calendars.cache import RECHECK_ENV, fingerprint, recheck_seconds
from calendars.loader import DATA_DIR
from tests.support import add_rest_day

#: A Wednesday, a working day in the shipped data.
DAY = date(2026, 6, 10)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copytree(DATA_DIR / "CN", tmp_path / "CN")
    return tmp_path


def test_a_changed_file_is_read_again_without_reload(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RECHECK_ENV, "0")
    before = get_calendar("CN", root=root)
    assert before.is_workday(DAY)
    assert get_calendar("CN", root=root) is before  # unchanged files: the cached object
    add_rest_day(root, DAY)
    after = get_calendar("CN", root=root)
    assert after.version != before.version
    assert not after.is_workday(DAY)


def test_a_new_file_is_noticed(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RECHECK_ENV, "0")
    day = date(2031, 3, 5)
    before = get_calendar("CN", root=root)
    assert before.is_provisional(day)
    add_rest_day(root, day)  # the year's first file
    after = get_calendar("CN", root=root)
    assert not after.is_provisional(day)
    assert not after.is_workday(day)


def test_files_are_looked_at_only_after_the_interval(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RECHECK_ENV, "3600")
    before = get_calendar("CN", root=root)
    add_rest_day(root, DAY)
    assert get_calendar("CN", root=root) is before
    monkeypatch.setenv(RECHECK_ENV, "0")
    assert not get_calendar("CN", root=root).is_workday(DAY)


def test_broken_new_files_keep_the_last_good_calendar(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RECHECK_ENV, "0")
    before = get_calendar("CN", root=root)
    path = root / "CN" / "2026.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n[[holidays]]\nname = 1\n")
    assert get_calendar("CN", root=root) is before
    with pytest.raises(CalendarDataError, match=r"2026\.toml:\d+"):
        get_calendar("CN", root=root, reload=True)


def test_the_fingerprint_reads_metadata_of_every_level(root: Path) -> None:
    (root / "CN-HA").mkdir()
    fp = fingerprint("cn-ha", root)
    names = [entry[0] for entry in fp]
    assert names[0] == "CN" and "CN/2026.toml" in names and "CN-HA" in names
    (root / "CN-HA" / "note.txt").write_text("not data")
    assert fingerprint("CN-HA", root)[-1][0] == "CN-HA"  # only .toml files are data


def test_the_interval_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RECHECK_ENV, raising=False)
    assert recheck_seconds() == 5.0
    monkeypatch.setenv(RECHECK_ENV, "soon")
    with pytest.raises(ValueError, match=RECHECK_ENV):
        recheck_seconds()
