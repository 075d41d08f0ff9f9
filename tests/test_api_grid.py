"""/api/grid: create, get, update and list every kind of grid resource, their checks, and the
all-or-nothing CSV imports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from readmodel.grid import ConnectionPointRow, FeederRow, GridCustomerRow
from tests.grid_support import ALL, LB, SMX, grid_client, load_small_grid
from tests.support import problem, problem_fields


@pytest.fixture
def client(db_engine: Engine, tmp_path: Path) -> TestClient:
    c = grid_client(db_engine, tmp_path)
    load_small_grid(c)
    return c


@pytest.mark.parametrize(("path", "rows"), ALL, ids=[p for p, _ in ALL])
def test_every_kind_reads_back_what_was_created(
    client: TestClient, path: str, rows: list[dict[str, Any]]
) -> None:
    for row in rows:
        got = client.get(f"/api/grid/{path}/{row['id']}")
        assert got.status_code == 200
        assert got.json() | row == got.json()
    listed = client.get(f"/api/grid/{path}").json()
    assert [i["id"] for i in listed["items"]] == sorted(r["id"] for r in rows)
    assert listed["total"] == len(rows)
    assert problem_fields(client.get(f"/api/grid/{path}/NOPE"), 404) == ["id"]
    assert problem_fields(client.post(f"/api/grid/{path}", json=rows[0]), 409) == ["id"]


def test_update_changes_only_the_fields_given(client: TestClient) -> None:
    r = client.patch("/api/grid/feeders/F1", json={"used_kva": 6500, "name": "湖滨1线"})
    assert r.status_code == 200, r.text
    assert r.json()["used_kva"] == 6500 and r.json()["rated_kva"] == 10000
    assert client.get("/api/grid/feeders/F1").json()["name"] == "湖滨1线"
    assert problem_fields(client.patch("/api/grid/feeders/F1", json={"id": "F9"})) == ["id"]
    unknown = client.patch("/api/grid/feeders/F1", json={"rated_kwh": 1})
    assert problem_fields(unknown) == ["rated_kwh"]
    # A field that may not be null is not cleared by a null; one that may be, is.
    assert problem_fields(client.patch("/api/grid/feeders/F1", json={"unit": None})) == ["unit"]
    assert problem_fields(client.patch("/api/grid/feeders/NOPE", json={"used_kva": 1}), 404) == [
        "id"
    ]
    # Lifting a restriction clears its reason.
    lifted = client.patch("/api/grid/connection-points/P2", json={"restricted": False})
    assert lifted.status_code == 200
    assert lifted.json()["restricted_reason"] is None
    # A change the stored row cannot take: a restriction without its reason, or a point
    # hung on both a feeder and a transformer.
    again = client.patch("/api/grid/connection-points/P2", json={"restricted": True})
    assert problem_fields(again, 409) == ["restricted_reason"]
    both = client.patch("/api/grid/connection-points/P1", json={"transformer": "T1"})
    assert problem_fields(both, 409) == ["feeder"]
    assert client.get("/api/grid/connection-points/P1").json()["transformer"] is None


def test_a_feeder_keeps_the_voltage_its_points_hang_at(client: TestClient) -> None:
    r = client.patch("/api/grid/feeders/F1", json={"voltage": "20kV"})
    (error,) = problem(r, 409)["errors"]
    assert error["field"] == "voltage" and "connection point" in error["reason"]
    assert client.get("/api/grid/feeders/F1").json()["voltage"] == "10kV"
    # F4 has no points: its voltage may change.
    assert client.patch("/api/grid/feeders/F4", json={"voltage": "20kV"}).status_code == 200


#: 422: the body is wrong whatever is stored; 409: it refers to what is not stored, or does not
#: fit it (docs/api.md).
@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("substations", {"id": "S9", "name": "x", "unit": SMX, "voltage": "10kV", "lon": 111,
                         "lat": 34}, 422, "voltage"),
        ("substations", {"id": "S9", "name": "x", "unit": "henan/nowhere", "voltage": "110kV",
                         "lon": 111, "lat": 34}, 409, "unit"),
        ("substations", {"id": "S9", "name": "x", "unit": SMX, "voltage": "110kV", "lon": 200,
                         "lat": 34}, 422, "lon"),
        ("substations", {"id": "S9", "name": "x", "unit": SMX, "voltage": "110kV", "lon": "111",
                         "lat": 34}, 422, "lon"),
        ("substations", {"id": "S 9", "name": "x", "unit": SMX, "voltage": "110kV", "lon": 111,
                         "lat": 34}, 422, "id"),
        ("substations", {"id": "S9\n", "name": "x", "unit": SMX, "voltage": "110kV", "lon": 111,
                         "lat": 34}, 422, "id"),
        ("substations", {"id": "S9", "name": "湖\u202e滨", "unit": SMX, "voltage": "110kV",
                         "lon": 111, "lat": 34}, 422, "name"),
        ("feeders", {"id": "F9", "substation": "S9", "unit": SMX, "voltage": "10kV",
                     "rated_kva": 100, "used_kva": 0}, 409, "substation"),
        ("feeders", {"id": "F9", "substation": "S1", "unit": SMX, "voltage": "10kV",
                     "rated_kva": 0, "used_kva": 0}, 422, "rated_kva"),
        ("feeders", {"id": "F9", "substation": "S1", "unit": SMX, "voltage": "10kV",
                     "rated_kva": 100, "used_kva": 0, "name": "1\n线"}, 422, "name"),
        ("transformers", {"id": "T9", "feeder": "F9", "unit": SMX, "rated_kva": 400,
                          "load_kva": 0}, 409, "feeder"),
        ("transformers", {"id": "T9", "feeder": "F1", "unit": SMX, "rated_kva": 400,
                          "load_kva": 0, "lon": 111}, 422, "lat"),
        ("connection-points", {"id": "P9", "kind": "tower", "unit": SMX, "voltage": "10kV",
                               "lon": 111, "lat": 34, "feeder": "F1"}, 422, "kind"),
        ("connection-points", {"id": "P9", "kind": "pole", "unit": SMX, "voltage": "35kV",
                               "lon": 111, "lat": 34, "feeder": "F1"}, 409, "voltage"),
        ("connection-points", {"id": "P9", "kind": "pole", "unit": SMX, "voltage": "10kV",
                               "lon": 111, "lat": 34}, 422, "feeder"),
        ("connection-points", {"id": "P9", "kind": "meter_box", "unit": SMX, "voltage": "10kV",
                               "lon": 111, "lat": 34, "transformer": "T1"}, 422, "voltage"),
        ("connection-points", {"id": "P9", "kind": "pole", "unit": SMX, "voltage": "10kV",
                               "lon": 111, "lat": 34, "feeder": "F1", "restricted": True},
         422, "restricted_reason"),
        ("connection-points", {"id": "P9", "kind": "pole", "unit": SMX, "voltage": "10kV",
                               "lon": 111, "lat": 34, "feeder": "F1", "restricted": "true",
                               "restricted_reason": "满载"}, 422, "restricted"),
        ("customers", {"id": "C9", "feeder": "F1", "transformer": "T2", "name": "x"},
         409, "transformer"),
        ("customers", {"id": "C9", "feeder": "F1", "name": "x", "phone": "0398-1234567"},
         422, "phone"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field(
    client: TestClient, path: str, body: dict[str, Any], status: int, field: str
) -> None:
    r = client.post(f"/api/grid/{path}", json=body)
    assert field in problem_fields(r, status), r.text
    assert client.get(f"/api/grid/{path}/{body['id'].strip()}").status_code in (404, 422)


def test_a_refused_phone_is_not_echoed(client: TestClient) -> None:
    r = client.post(
        "/api/grid/customers",
        json={"id": "C9", "feeder": "F1", "name": "张三", "phone": "12345678901"},
    )
    assert r.status_code == 422
    assert "12345678901" not in r.text and "张三" not in r.text


def test_changes_need_a_sign_in(db_engine: Engine, tmp_path: Path) -> None:
    from tests.support import secured

    c = grid_client(db_engine, tmp_path)
    secured(c.app)
    body = ALL[0][1][0]
    assert problem_fields(c.post("/api/grid/substations", json=body), 401) == ["authorization"]
    assert problem_fields(c.get("/api/grid/substations"), 401) == ["authorization"]


# --------------------------------------------------------------------------- filters


def ids(client: TestClient, path: str, **params: object) -> list[str]:
    r = client.get(f"/api/grid/{path}", params=params)
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


def test_filters(client: TestClient) -> None:
    # A unit includes the units under it, and only them.
    assert ids(client, "feeders", unit="henan/sanmenxia") == ["F1", "F2", "F3"]
    assert ids(client, "feeders", unit=LB) == ["F3"]
    assert ids(client, "feeders", unit="henan/sanmen") == []
    assert ids(client, "feeders", unit="henan") == ["F1", "F2", "F3", "F4"]
    assert ids(client, "feeders", voltage="35kV") == ["F2"]
    assert ids(client, "feeders", substation="S1") == ["F1", "F2"]
    assert ids(client, "substations", unit=SMX, voltage="110kV") == ["S1", "S2"]
    assert ids(client, "transformers", feeder="F3") == ["T2"]
    assert ids(client, "transformers", voltage="10kV", unit=SMX) == ["T1", "T2"]
    assert ids(client, "transformers", voltage="35kV") == []
    assert ids(client, "transformers", voltage="380V") == ["T1", "T2"]
    # On the feeder itself or on one of its transformers.
    assert ids(client, "connection-points", feeder="F1") == ["P1", "P2", "P3"]
    assert ids(client, "connection-points", feeder="F1", voltage="380V") == ["P3"]
    assert ids(client, "connection-points", restricted=True) == ["P2"]
    assert ids(client, "connection-points", transformer="T1") == ["P3"]
    assert ids(client, "customers", feeder="F1") == ["C1", "C2"]
    assert ids(client, "customers", unit=LB) == ["C3"]
    assert ids(client, "customers", voltage="380V") == ["C2"]
    assert ids(client, "customers", voltage="10kV") == ["C1", "C2", "C3"]


def test_pages_are_bounded(client: TestClient) -> None:
    r = client.get("/api/grid/connection-points", params={"offset": 1, "limit": 2}).json()
    assert [i["id"] for i in r["items"]] == ["P2", "P3"]
    assert (r["total"], r["offset"], r["limit"]) == (5, 1, 2)
    for param, value in (("limit", 501), ("limit", 0), ("offset", -1), ("offset", 1_000_001)):
        for path in ("feeders", "open-capacity", "reservations"):
            r = client.get(f"/api/grid/{path}", params={param: value})
            assert problem_fields(r) == [param], (path, param, value)
    assert client.get("/api/grid/feeders", params={"offset": 1_000_000}).status_code == 200
    bad_unit = client.get("/api/grid/feeders", params={"unit": "Henan/SMX"})
    assert problem_fields(bad_unit) == ["unit"]
    bad_voltage = client.get("/api/grid/connection-points", params={"voltage": "11kV"})
    assert problem_fields(bad_voltage) == ["voltage"]


# --------------------------------------------------------------------------- CSV import

POINTS_CSV = """id,kind,name,unit,voltage,lon,lat,feeder,transformer,restricted,restricted_reason
Q1,pole,会兴路1号,henan/sanmenxia,10kV,111.25,34.80,F1,,,
Q2,branch_box,,henan/sanmenxia,10kV,111.26,34.81,F1,,true,通道受限
Q3,meter_box,甘棠路2号,henan/sanmenxia,380V,111.201,34.772,,T1,false,
"""


def post_csv(client: TestClient, path: str, text: str, **params: object) -> dict[str, Any]:
    r = client.post(
        f"/api/grid/{path}/import",
        content=text.encode(),
        params=params,
        headers={"content-type": "text/csv"},
    )
    return {"status": r.status_code, **r.json()}


def refused_rows(client: TestClient, path: str, text: str) -> list[dict[str, Any]]:
    """The errors of a refused import: a 422 problem, one entry per line and field."""
    r = client.post(
        f"/api/grid/{path}/import", content=text.encode(), headers={"content-type": "text/csv"}
    )
    errors: list[dict[str, Any]] = problem(r, 422)["errors"]
    return errors


def test_csv_import_creates_then_updates_by_id(client: TestClient, db_engine: Engine) -> None:
    report = post_csv(client, "connection-points", POINTS_CSV)
    assert report["status"] == 200, report
    assert (report["created"], report["updated"], report["unchanged"]) == (3, 0, 0)
    q2 = client.get("/api/grid/connection-points/Q2").json()
    assert q2["restricted"] is True and q2["restricted_reason"] == "通道受限"
    assert client.get("/api/grid/connection-points/Q3").json()["transformer"] == "T1"
    changed = POINTS_CSV.replace("111.25,34.80", "111.27,34.80")
    again = post_csv(client, "connection-points", changed)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 1, 2)
    with Session(db_engine) as s:
        assert s.get(ConnectionPointRow, "Q1").lon == 111.27  # type: ignore[union-attr]


def test_csv_import_with_a_bad_line_imports_nothing(client: TestClient, db_engine: Engine) -> None:
    bad = POINTS_CSV + "Q4,pole,,henan/sanmenxia,10kV,111.3,34.8,F404,,,\n"
    bad += "Q5,pole,,henan/sanmenxia,10kV,east,34.8,F1,,,\n"
    bad += "Q1,pole,,henan/sanmenxia,10kV,111.3,34.8,F1,,,\n"
    errors = refused_rows(client, "connection-points", bad)
    assert [(e["row"], e["field"]) for e in errors] == [(5, "feeder"), (6, "lon"), (7, "id")]
    assert "line 2" in errors[2]["reason"]
    with Session(db_engine) as s:
        assert s.get(ConnectionPointRow, "Q1") is None


def test_csv_header_and_encoding_errors(client: TestClient) -> None:
    (err,) = refused_rows(client, "feeders", "id,substation,unit,voltage,rated_kw,used_kva\n")
    assert (err["row"], err["field"]) == (1, "header")
    assert "rated_kva" in err["reason"] and "rated_kw" in err["reason"]
    (empty,) = refused_rows(client, "feeders", "id,substation,unit,voltage,rated_kva,used_kva\n")
    assert (empty["row"], empty["reason"]) == (1, "no rows")
    r = client.post("/api/grid/feeders/import", content="id\n\xff".encode("latin-1"), headers={})
    assert problem_fields(r) == ["body"]


def test_csv_customers_keep_phones_out_of_the_report(client: TestClient, db_engine: Engine) -> None:
    text = "\ufeffid,feeder,transformer,name,phone\nK1,F1,T1,王某,+86 139 0000 0009\n"
    text += "K2,F1,,李某,02012345678\n"
    r = client.post("/api/grid/customers/import", content=text.encode())
    (err,) = problem(r, 422)["errors"]
    assert (err["row"], err["field"]) == (3, "phone")
    assert "02012345678" not in r.text and "李某" not in r.text
    ok = post_csv(client, "customers", text.replace("02012345678", ""))
    assert ok["status"] == 200 and ok["created"] == 2
    with Session(db_engine) as s:
        k1 = s.get(GridCustomerRow, "K1")
        assert k1 is not None and k1.phone == "13900000009"


def test_csv_dry_run_writes_nothing(client: TestClient, db_engine: Engine) -> None:
    text = "id,substation,unit,voltage,rated_kva,used_kva\nF7,S1,henan/sanmenxia,10kV,8000,100\n"
    report = post_csv(client, "feeders", text, dry_run=True)
    assert report["status"] == 200 and report["created"] == 1 and report["dry_run"] is True
    with Session(db_engine) as s:
        assert s.exec(select(FeederRow).where(FeederRow.id == "F7")).first() is None
