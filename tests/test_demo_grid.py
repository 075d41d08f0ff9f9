"""The demo grid `make run` loads: the same every time, valid by the API's own rules, with
restricted points and nearly full feeders for plans to skip."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, func, select

from api.grid_kinds import KINDS
from api.grid_refs import GridRefs
from readmodel.demo_grid import demo_grid_rows, seed_demo_grid
from readmodel.demo_org import DEMO_UNITS, seed_demo_org
from readmodel.grid import ConnectionPointRow, FeederRow, SubstationRow
from tests.grid_support import grid_client


def dumps(rows: list[SQLModel]) -> list[dict[str, object]]:
    return [r.model_dump() for r in rows]


def test_the_demo_grid_is_the_same_every_time() -> None:
    assert dumps(demo_grid_rows()) == dumps(demo_grid_rows())


def test_the_demo_grid_has_what_plans_need() -> None:
    rows = demo_grid_rows()
    feeders = [r for r in rows if isinstance(r, FeederRow)]
    points = [r for r in rows if isinstance(r, ConnectionPointRow)]
    substations = [r for r in rows if isinstance(r, SubstationRow)]
    assert 3 <= len(substations) <= 8
    assert 18 <= len(feeders) <= 24
    assert 180 <= len(points) <= 260
    restricted = [p for p in points if p.restricted]
    assert len(restricted) >= 5
    assert all(p.restricted_reason for p in restricted)
    nearly_full = [f for f in feeders if f.rated_kva * 0.8 - f.used_kva < 0.05 * f.rated_kva]
    assert len(nearly_full) >= 3
    # Every demo unit with a grid of its own, and Sanmenxia's around the city.
    units = {r.unit for r in substations}
    assert units <= {u.code for u in DEMO_UNITS}
    assert {"henan/sanmenxia", "henan/xinyang/huangchuan"} <= units
    smx = [p for p in points if p.unit == "henan/sanmenxia"]
    assert all(111.0 < p.lon < 111.45 and 34.6 < p.lat < 34.95 for p in smx)
    assert {p.voltage for p in points} == {"10kV", "35kV", "380V"}


def test_the_demo_grid_obeys_the_api_rules(db_engine: Engine) -> None:
    seed_demo_org(db_engine)
    rows = demo_grid_rows()
    with Session(db_engine) as session:
        for kind in KINDS:
            mine = [r for r in rows if isinstance(r, kind.row)]
            assert mine, kind.path
            for row in mine:
                item = kind.create.model_validate(row.model_dump())
                assert kind.check(GridRefs(session), item) == [], (kind.path, row.model_dump())
                session.add(kind.row(**item.model_dump()))
            session.commit()


def test_seeding_is_idempotent_and_keeps_an_operators_edits(
    db_engine: Engine, tmp_path: Path
) -> None:
    seed_demo_org(db_engine)
    added = seed_demo_grid(db_engine)
    assert added == len(demo_grid_rows())
    with Session(db_engine) as s:
        f = s.get(FeederRow, "SMX-S01-F02")
        assert f is not None
        f.used_kva = 1.0
        s.add(f)
        s.commit()
    assert seed_demo_grid(db_engine) == 0
    with Session(db_engine) as s:
        assert s.get(FeederRow, "SMX-S01-F02").used_kva == 1.0  # type: ignore[union-attr]
        assert s.exec(select(func.count()).select_from(FeederRow)).one() == 20
    c = grid_client(db_engine, tmp_path)
    page = c.get("/api/grid/open-capacity", params={"unit": "henan/sanmenxia"}).json()
    assert page["total"] > 40
    assert any(i["open_kva"] < 300 for i in page["items"] if i["kind"] == "feeder")
