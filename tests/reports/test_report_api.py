"""The reports over HTTP: JSON by default, CSV (the main table) and XLSX (every table, read
back with openpyxl), and the problems bad parameters get."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine

from api.app import create_app
from api.deps import get_app_settings, get_db_engine
from core.config import Settings
from tests.reports.scenario import Scenario

SH, HC = "shanghai", "henan/xinyang/huangchuan"
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}


@pytest.fixture
def client(db_engine: Engine, tmp_path: Path) -> TestClient:
    sc = Scenario(db_engine)
    sc.connected("S1", SH, "hv", "10kV", "2026-09-21 10:00", energized="2026-09-28 10:00",
                 kept=(1, 1))  # fmt: skip
    sc.connected("S2", SH, "hv", "10kV", "2026-09-29 09:00", energized="2026-10-13 21:00",
                 kept=(0, 1))  # fmt: skip
    sc.monitor("S1", SH, "hv.plan_reply", "plan_reply", "2026-09-21 10:00", "2026-09-28 10:00",
               4.0, kept=(1, 1))  # fmt: skip
    sc.application("H1", HC, "hv", "10kV", "2026-10-26 09:00", state="running",
                   events=[("too_short", "2026-11-10 12:00")])  # fmt: skip
    sc.warning("H1", "hv.plan_reply", "plan_reply", "yellow", "2026-11-05 10:00")
    app = create_app()
    settings = Settings(data_dir=tmp_path)
    app.dependency_overrides[get_db_engine] = lambda: db_engine
    app.dependency_overrides[get_app_settings] = lambda: settings
    return TestClient(app)


def test_connection_time_as_json(client: TestClient) -> None:
    r = client.get("/api/reports/connection-time", params={"unit": SH, **YEAR, "period": "year"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["unit"], body["date_from"], body["date_to"]) == (SH, "2026-01-01", "2026-12-31")
    (row,) = body["rows"]
    assert row["working_days"] == {"n": 2, "mean": 5.25, "median": 5.25, "p90": 6.25}
    assert row["within_provincial"] == {"judged": 2, "within": 1, "share": 0.5}
    assert {t["label"]: t["met"] for t in body["targets"]}["10千伏客户平均接电时间"] is True


def test_connection_time_as_csv(client: TestClient) -> None:
    r = client.get(
        "/api/reports/connection-time",
        params={"unit": SH, **YEAR, "period": "month", "format": "csv"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="connection-time.csv"' in r.headers["content-disposition"]
    text = r.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(x["period"], x["business_type_label"], x["applications"]) for x in rows] == [
        ("2026-09", "高压新装", "1"),
        ("2026-10", "高压新装", "1"),
    ]
    assert [x["calendar_days_mean"] for x in rows] == ["7.0", "14.5"]
    assert [x["provincial_within"] for x in rows] == ["1", "0"]


def test_connection_time_as_xlsx_holds_every_table(client: TestClient) -> None:
    r = client.get(
        "/api/reports/connection-time",
        params={"unit": SH, **YEAR, "period": "year", "format": "xlsx"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(r.content), read_only=True)
    assert book.sheetnames == ["connection_time", "targets"]
    main = list(book["connection_time"].iter_rows(values_only=True))
    header, row = main
    got = dict(zip(header, row, strict=True))
    assert (got["period"], got["applications"], got["working_days_mean"]) == ("2026", 2, 5.25)
    targets = list(book["targets"].iter_rows(values_only=True))
    labels = [t[0] for t in targets[1:]]
    assert "10千伏客户平均接电时间" in labels


@pytest.mark.parametrize(
    ("path", "sheets"),
    [
        ("stage-times", ["stage_times"]),
        ("warnings", ["warnings", "by_level", "by_unit", "by_stage"]),
        ("lists", ["lists"]),
        ("penalties", ["penalties", "totals", "not_detected"]),
    ],
)
def test_every_report_exports(client: TestClient, path: str, sheets: list[str]) -> None:
    assert client.get(f"/api/reports/{path}", params=YEAR).status_code == 200
    book = load_workbook(
        io.BytesIO(client.get(f"/api/reports/{path}", params={**YEAR, "format": "xlsx"}).content)
    )
    assert book.sheetnames == sheets
    text = client.get(f"/api/reports/{path}", params={**YEAR, "format": "csv"}).content
    header = next(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert header == [c.value for c in next(book[sheets[0]].iter_rows(max_row=1))]


def test_lists_and_penalties_over_http(client: TestClient) -> None:
    lists = client.get("/api/reports/lists", params={**YEAR, "list": "too_short"}).json()
    (item,) = lists["items"]
    assert (item["application_no"], item["at"]) == ("H1", "2026-11-10T12:00:00+08:00")
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    "/api/reports/penalties", params={**YEAR, "format": "csv"}
                ).content.decode("utf-8-sig")
            )
        )
    )
    assert [(x["month"], x["no"], x["amount"], x["application_nos"]) for x in rows] == [
        ("2026-11", "二.3", "30000.0", "H1")
    ]


def test_text_that_looks_like_a_formula_is_not_one(client: TestClient) -> None:
    from api.report_export import csv_bytes
    from domain.reports.models import Table

    out = csv_bytes(Table(name="x", columns=["a"], rows=[["=1+1"], ["-2"], [3]]))
    assert out.decode("utf-8-sig").splitlines() == ["a", "'=1+1", "'-2", "3"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-03-01", "to": "2026-02-01"}, "to"),
        ({"from": "2026-02-30"}, "from"),
        ({"format": "pdf"}, "format"),
        ({"unit": "Shanghai!"}, "unit"),
        ({"period": "week"}, "period"),
    ],
)
def test_bad_parameters_are_problems_naming_the_field(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    r = client.get("/api/reports/connection-time", params=params)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field]


def test_a_range_beyond_any_data_is_cut_not_refused(client: TestClient) -> None:
    r = client.get("/api/reports/warnings", params={"from": "0001-01-01", "to": "9999-12-31"})
    assert r.status_code == 200
    assert (r.json()["date_from"], r.json()["date_to"]) == ("1970-01-02", "2199-12-31")
    assert r.json()["totals"]["by_level"] == [
        {"key": "yellow", "label": "黄色预警", "raised": 1, "open": 0}
    ]


@pytest.mark.parametrize("day", ["0", "1767225600", "2026-01-05T00:00:00", "2026-1-5"])
def test_days_are_written_as_days(client: TestClient, day: str) -> None:
    r = client.get("/api/reports/warnings", params={"to": day})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "to"
