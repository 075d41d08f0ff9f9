"""Capacity reservations in the read model, on SQLite and on a real PostgreSQL server.

The race tests run real threads, each on its own pooled connection, lined up on a barrier so
that their transactions overlap: when the open capacity fits k requests, exactly k are granted,
however the threads interleave. `pytest -k postgres` selects the PostgreSQL runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from contracts.grid import ResourceRef
from readmodel.demo_org import seed_demo_org
from readmodel.grid import FeederRow, SubstationRow, TransformerRow
from readmodel.reservations import ReservationRow, held_kva, release, reservations_of, reserve

LIMIT = 0.8
THREADS = 8
ROUNDS = 25


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The same tests on both databases (ids `[sqlite]` and `[postgres]`)."""
    name = "db_engine" if request.param == "sqlite" else "pg_engine"
    eng: Engine = request.getfixturevalue(name)
    seed_demo_org(eng)
    with Session(eng) as s:
        s.add(SubstationRow(id="S1", name="站", unit="henan", voltage="110kV", lon=111, lat=34))
        s.commit()
    return eng


def add_feeder(engine: Engine, fid: str, rated: float, used: float) -> ResourceRef:
    with Session(engine) as s:
        s.add(
            FeederRow(
                id=fid, substation="S1", unit="henan", voltage="10kV", rated_kva=rated,
                used_kva=used,
            )
        )  # fmt: skip
        s.commit()
    return ResourceRef(kind="feeder", id=fid)


def feeder(engine: Engine, fid: str = "F1") -> ResourceRef:
    # open = 1000 × 0.8 − 700 = 100 kVA
    return add_feeder(engine, fid, 1000, 700)


def ask(engine: Engine, app: str, version: int, res: ResourceRef, kva: float) -> Any:
    return reserve(engine, app, version, res, kva, loading_limit=LIMIT)


def test_granted_then_the_same_on_retry(engine: Engine) -> None:
    f1 = feeder(engine)
    first = ask(engine, "A1", 1, f1, 60)
    assert first.outcome == "granted" and first.open_kva == pytest.approx(100)
    again = ask(engine, "A1", 1, f1, 60)
    assert again.outcome == "granted"
    assert again.reservation == first.reservation
    assert len(reservations_of(engine, "A1")) == 1
    refused = ask(engine, "A2", 1, f1, 60)
    assert refused.outcome == "no_capacity"
    assert refused.open_kva == pytest.approx(40)
    assert refused.reservation is None
    assert ask(engine, "A2", 1, f1, 40).outcome == "granted"
    assert ask(engine, "A3", 1, ResourceRef(kind="feeder", id="F404"), 1).outcome == (
        "unknown_resource"
    )


def test_a_transformer_counts_its_load(engine: Engine) -> None:
    feeder(engine)
    with Session(engine) as s:
        s.add(TransformerRow(id="T1", feeder="F1", unit="henan", rated_kva=400, load_kva=250))
        s.commit()
    t1 = ResourceRef(kind="transformer", id="T1")
    assert ask(engine, "A1", 1, t1, 71).outcome == "no_capacity"
    assert ask(engine, "A1", 1, t1, 70).outcome == "granted"
    with engine.connect() as conn:
        assert held_kva(conn, "transformer") == {"T1": 70}
        assert held_kva(conn, "feeder") == {}


def test_a_new_plan_version_replaces_the_old_one(engine: Engine) -> None:
    f1, f2 = feeder(engine), feeder(engine, "F2")
    assert ask(engine, "A1", 1, f1, 80).outcome == "granted"
    assert ask(engine, "A1", 1, f2, 30).outcome == "granted"
    # 100 open on F1 for version 2: version 1's 80 are given back in the same transaction.
    v2 = ask(engine, "A1", 2, f1, 90)
    assert v2.outcome == "granted" and v2.open_kva == pytest.approx(100)
    states = {(r.plan_version, r.resource.id): (r.state, r.release_reason)
              for r in reservations_of(engine, "A1")}  # fmt: skip
    assert states == {
        (1, "F1"): ("released", "replaced"),
        (1, "F2"): ("released", "replaced"),
        (2, "F1"): ("held", None),
    }
    # A late retry of version 1 neither takes capacity back nor disturbs version 2.
    assert ask(engine, "A1", 1, f1, 80).outcome == "released"
    assert ask(engine, "A1", 1, f2, 30).outcome == "released"
    assert ask(engine, "A1", 1, feeder(engine, "F3"), 10).outcome == "superseded"
    with engine.connect() as conn:
        assert held_kva(conn, "feeder") == {"F1": 90}


def test_release_is_idempotent_and_frees_capacity(engine: Engine) -> None:
    f1 = feeder(engine)
    assert ask(engine, "A1", 1, f1, 100).outcome == "granted"
    assert ask(engine, "A2", 1, f1, 1).outcome == "no_capacity"
    (gone,) = release(engine, "A1", reason="expired")
    assert gone.state == "released" and gone.release_reason == "expired"
    assert gone.released_at is not None
    assert release(engine, "A1") == []
    assert ask(engine, "A1", 1, f1, 100).outcome == "released"
    assert ask(engine, "A2", 1, f1, 100).outcome == "granted"
    assert release(engine, "A2", plan_version=2) == []
    assert [r.state for r in release(engine, "A2", plan_version=1)] == ["released"]


def race(engine: Engine, calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once, one thread (and pooled connection) each."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def held_rows(engine: Engine, fid: str) -> list[ReservationRow]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(ReservationRow).where(
                    ReservationRow.resource_id == fid, ReservationRow.state == "held"
                )
            ).all()
        )


@pytest.mark.parametrize("fits", [1, 3])
def test_race_for_the_last_open_capacity(engine: Engine, fits: int) -> None:
    """Eight applications ask at once for 60 kVA (rounds of 25): exactly `fits` get it."""
    for r in range(ROUNDS):
        fid = f"R{fits}-{r}"
        # open = rated × 0.8 − used = 60 × fits + 20: room for `fits` requests, not one more.
        res = add_feeder(engine, fid, 1000, 800 - 60 * fits - 20)
        calls = [partial(ask, engine, f"A{r}-{i}", 1, res, 60) for i in range(THREADS)]
        outcomes = race(engine, calls)
        granted = [o for o in outcomes if o.outcome == "granted"]
        refused = [o for o in outcomes if o.outcome == "no_capacity"]
        assert (len(granted), len(refused)) == (fits, THREADS - fits), r
        assert all(o.open_kva < 60 for o in refused)
        assert sum(row.kva for row in held_rows(engine, fid)) == 60 * fits


def test_racing_retries_of_one_request_make_one_reservation(engine: Engine) -> None:
    for r in range(ROUNDS):
        res = feeder(engine, f"RR{r}")
        outcomes = race(engine, [partial(ask, engine, f"A{r}", 1, res, 10)] * THREADS)
        assert {o.outcome for o in outcomes} == {"granted"}
        assert len({o.reservation.id for o in outcomes}) == 1
        assert len(held_rows(engine, f"RR{r}")) == 1
