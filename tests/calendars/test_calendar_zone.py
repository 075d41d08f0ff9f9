"""DataZone (the zone carried in snapshots) behaves exactly like zoneinfo."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from calendars.zone import DataZone, data_zone, zone_transitions

KEYS = ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe"]
instants = st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2199, 12, 1))


@settings(max_examples=300)
@given(instants, st.sampled_from(KEYS))
def test_utc_to_local_matches_zoneinfo(naive_utc: datetime, key: str) -> None:
    u = naive_utc.replace(tzinfo=UTC)
    ours, theirs = u.astimezone(data_zone(key)), u.astimezone(ZoneInfo(key))
    assert ours.replace(tzinfo=None) == theirs.replace(tzinfo=None)
    assert ours.fold == theirs.fold
    assert ours.utcoffset() == theirs.utcoffset()
    assert ours.tzname() == theirs.tzname()


@settings(max_examples=300)
@given(instants, st.sampled_from(KEYS), st.sampled_from([0, 1]))
def test_wall_time_offsets_match_zoneinfo(wall: datetime, key: str, fold: int) -> None:
    ours = wall.replace(tzinfo=data_zone(key), fold=fold)
    theirs = wall.replace(tzinfo=ZoneInfo(key), fold=fold)
    assert ours.utcoffset() == theirs.utcoffset()


def test_transitions_around_a_dst_change() -> None:
    ny = data_zone("America/New_York")
    # 2026-11-01 01:30 happens twice in New York.
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC).astimezone(ny)
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC).astimezone(ny)
    assert first.replace(tzinfo=None) == second.replace(tzinfo=None) == datetime(2026, 11, 1, 1, 30)
    assert (first.fold, second.fold) == (0, 1)
    assert first.utcoffset() == timedelta(hours=-4)
    assert second.utcoffset() == timedelta(hours=-5)


def test_shanghai_is_small_and_steady() -> None:
    transitions = zone_transitions("Asia/Shanghai")
    assert len(transitions) < 40
    assert transitions[-1][1] == 8 * 3600
    assert datetime(2026, 1, 1, tzinfo=data_zone("Asia/Shanghai")).utcoffset() == timedelta(hours=8)


def test_equality_pickle_and_repr() -> None:
    zone = data_zone("Asia/Shanghai")
    copy = DataZone("Asia/Shanghai", zone.transitions)
    assert copy == zone and hash(copy) == hash(zone)
    assert pickle.loads(pickle.dumps(zone)) == zone
    assert str(zone) == "Asia/Shanghai" and "Asia/Shanghai" in repr(zone)
