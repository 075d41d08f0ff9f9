"""The API's contract at its edges, with Temporal unreachable (none of it needs Temporal):
offline docs, one error shape, bounded and consistent inputs, the OpenAPI that says so."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from api.app import create_app
from api.problems import PROBLEM_JSON
from core.config import Settings
from tests.support import free_port, problem, problem_fields

JSON = {"content-type": "application/json"}


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(temporal_address=f"127.0.0.1:{free_port()}", data_dir=tmp_path)
    app = create_app(settings)

    def boom() -> None:
        raise RuntimeError("secret internals: /srv/app.db password=hunter2")

    def refused() -> None:
        # The shape the workflow's typed refusals arrive in (contracts.errors.Refusal).
        raise HTTPException(
            409,
            detail={"type": "conflict", "errors": [{"field": "paused", "reason": "already"}]},
        )

    app.add_api_route("/test/boom", boom, include_in_schema=False)
    app.add_api_route("/test/refused", refused, include_in_schema=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def application(**overrides: Any) -> dict[str, Any]:
    return {
        "unit": "henan/sanmenxia",
        "business_type": "hv",
        "voltage": "10kV",
        "capacity_kva": 630,
        "customer": {"name": "测试客户"},
        "accepted_at": "2026-09-21T10:00:00+08:00",
        **overrides,
    }


# -- docs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_what_the_app_serves(http: TestClient, page: str) -> None:
    r = http.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assets = re.findall(r'<(?:script|link)[^>]*?(?:src|href)="([^"]+)"', r.text)
    assert len(assets) >= 2, r.text
    for url in assets:
        # No CDN, no other host: a path on this app.
        assert url.startswith("/") and not url.startswith("//"), url
        asset = http.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url
    assert "https://" not in re.sub(r"<script>.*?</script>", "", r.text, flags=re.S)
    assert http.get("/openapi.json").status_code == 200


# -- one error shape ----------------------------------------------------------------------------


def test_unhandled_errors_answer_a_problem_without_internals(http: TestClient) -> None:
    r = http.get("/test/boom")
    body = problem(r, 500)
    assert body["type"].endswith(":internal") and body["errors"] == []
    assert "secret" not in r.text and "RuntimeError" not in r.text


def test_refusals_with_errors_keep_their_fields(http: TestClient) -> None:
    body = problem(http.get("/test/refused"), 409)
    assert body["errors"] == [{"field": "paused", "reason": "already"}]
    assert body["type"].endswith(":conflict") and body["instance"] == "/test/refused"


def test_unknown_route_is_a_problem(http: TestClient) -> None:
    assert problem(http.get("/api/nothing-here"), 404)["instance"] == "/api/nothing-here"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/applications", "GET, POST"),
        ("DELETE", "/api/applications/A123", "GET"),
        ("GET", "/api/applications/A123/pause", "POST"),
        ("PUT", "/api/staff/cm-001", "GET, PATCH"),
        # The literal path wins over /api/staff/{code}, as in the OpenAPI document.
        ("OPTIONS", "/api/staff/import", "POST"),
        # ...and not read as an application number (which would refuse it with a 422).
        ("GET", "/api/applications/import.csv", "POST"),
        ("DELETE", "/api/applications/import.csv", "POST"),
        ("PUT", "/api/units/henan/sanmenxia", "GET"),
        ("POST", "/health", "GET"),
    ],
)
def test_405_names_what_the_path_allows(
    http: TestClient, method: str, path: str, allow: str
) -> None:
    r = http.request(method, path)
    problem(r, 405)
    assert r.headers["allow"] == allow


def test_validation_errors_name_the_field_and_its_location(http: TestClient) -> None:
    r = http.post("/api/applications", content=b"{not json", headers=JSON)
    assert problem(r, 422)["errors"][0] == {
        "field": "body",
        "reason": r.json()["errors"][0]["reason"],
        "location": "body",
    }
    r = http.get("/api/applications", params={"limit": 0, "state": "lost"})
    errors = problem(r, 422)["errors"]
    assert {(e["field"], e["location"]) for e in errors} == {("limit", "query"), ("state", "query")}


def test_the_refused_value_is_never_echoed(http: TestClient) -> None:
    staff = {"code": "x", "name": "n", "roles": ["customer_manager"], "unit": "henan"}
    r = http.post("/api/staff", json={**staff, "phone": "0398-2812345"})
    assert problem_fields(r) == ["phone"] and "2812345" not in r.text
    r = http.post("/api/applications", json=application(customer={"name": "张三\x00"}))
    assert problem_fields(r) == ["customer.name"] and "张三" not in r.text
    customer = {"id": "C1", "feeder": "F1", "name": "李四"}
    r = http.post("/api/grid/customers", json={**customer, "phone": "0398-2812345"})
    assert problem_fields(r) == ["phone"] and "2812345" not in r.text and "李四" not in r.text


# -- bounded and checked inputs -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/applications",
        "/api/warnings",
        "/api/notifications",
        "/api/grid/connection-points",
        "/api/grid/open-capacity",
        "/api/grid/reservations",
    ],
)
@pytest.mark.parametrize(
    ("param", "value"),
    [("offset", "9223372036854775808"), ("offset", "-1"), ("limit", "0"), ("limit", "501")],
)
def test_pages_are_bounded(http: TestClient, path: str, param: str, value: str) -> None:
    assert problem_fields(http.get(path, params={param: value})) == [param]
    assert http.get(path, params={"offset": 1_000_000, "limit": 500}).status_code == 200


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e400", "2000001", "-1"])
@pytest.mark.parametrize("path", ["/api/applications", "/api/deadline-preview"])
def test_capacity_is_finite_and_realistic(http: TestClient, path: str, raw: str) -> None:
    body = (
        '{"unit": "henan/sanmenxia", "business_type": "hv", "voltage": "10kV", '
        '"customer": {"name": "x"}, "accepted_at": "2026-09-21T10:00:00+08:00", '
        f'"capacity_kva": {raw}}}'
    )
    r = http.post(path, content=body.encode(), headers=JSON)
    assert problem_fields(r) == ["capacity_kva"], r.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"voltage": None}, "voltage"),  # hv without a voltage
        ({"business_type": "lv_residential", "voltage": "110kV"}, "voltage"),
        ({"business_type": "lv_small_micro", "voltage": "10kV"}, "voltage"),
        ({"business_type": "dg_hv", "voltage": "110kV"}, "voltage"),
        ({"business_type": "dg_hv", "voltage": None}, "voltage"),
        ({"business_type": "temporary", "voltage": None}, "voltage"),
        ({"grid_works": {"type": "lv", "voltage": "10kV"}}, "grid_works.voltage"),
        ({"grid_works": {"type": "overhead_line", "voltage": "380V"}}, "grid_works.voltage"),
        ({"unit": "shanghai", "flags": ["no_such_flag"]}, "flags"),
    ],
)
def test_impossible_applications_are_refused(
    http: TestClient, overrides: dict[str, Any], field: str
) -> None:
    for path in ("/api/applications", "/api/deadline-preview"):
        assert problem_fields(http.post(path, json=application(**overrides))) == [field], path


def test_possible_combinations_pass(http: TestClient) -> None:
    for overrides in (
        {},
        {"business_type": "lv_residential", "voltage": "220V"},
        {"business_type": "lv_residential", "voltage": None},
        {"business_type": "dg_lv", "voltage": "380V", "dg_variant": "pv_multi_point"},
        {"business_type": "temporary", "voltage": "35kV"},
        {
            "grid_works": {"type": "lv", "voltage": "380V"},
            "business_type": "lv_non_residential",
            "voltage": "380V",
        },
    ):
        r = http.post("/api/deadline-preview", json=application(**overrides))
        assert r.status_code == 200, (overrides, r.text)


BAD_TEXT = ["\x00", "\u202e", "\u202a", "\u2066", "\u2069", "\x1b", "\x7f", "\x85"]


@pytest.mark.parametrize("char", BAD_TEXT)
def test_free_text_refuses_control_and_bidi_characters(http: TestClient, char: str) -> None:
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("post", "/api/applications", application(customer={"name": f"a{char}b"}), "customer.name"),
        (
            "post",
            "/api/applications",
            application(customer={"name": "x", "address": f"路{char}"}),
            "customer.address",
        ),
        (
            "post",
            "/api/applications",
            application(customer_manager=f"cm{char}"),
            "customer_manager",
        ),
        ("post", "/api/applications/A123/cancel", {"reason": f"r{char}"}, "reason"),
        ("post", "/api/applications/A123/pause", {"reason": f"r{char}"}, "reason"),
        ("post", "/api/applications/A123/events", {"event": "x.started", "note": char}, "note"),
        ("post", "/api/units", {"code": "henan", "name": f"n{char}", "level": "province"}, "name"),
        (
            "post",
            "/api/staff",
            {
                "code": "cm-1",
                "name": f"王{char}",
                "roles": ["customer_manager"],
                "unit": "henan",
                "phone": "13800000001",
            },
            "name",
        ),
        ("patch", "/api/staff/cm-1", {"name": f"王{char}"}, "name"),
        (
            "post",
            "/api/grid/substations",
            {
                "id": "S1",
                "name": f"湖滨{char}站",
                "unit": "henan",
                "voltage": "110kV",
                "lon": 111.2,
                "lat": 34.8,
            },
            "name",
        ),
        ("patch", "/api/grid/feeders/F1", {"name": f"湖滨{char}1线"}, "name"),
        (
            "post",
            "/api/grid/connection-points",
            {
                "id": "P1",
                "kind": "pole",
                "unit": "henan",
                "voltage": "10kV",
                "lon": 111.2,
                "lat": 34.8,
                "feeder": "F1",
                "restricted": True,
                "restricted_reason": f"满{char}",
            },
            "restricted_reason",
        ),
        ("post", "/api/grid/customers", {"id": "C1", "feeder": "F1", "name": f"某{char}"}, "name"),
    ]
    for method, path, body, field in cases:
        r = http.request(method, path, json=body)
        assert problem_fields(r) == [field], (path, r.text)
        assert f"U+{ord(char):04X}" in r.json()["detail"]


def test_reasons_may_span_lines_and_names_may_not(http: TestClient) -> None:
    r = http.post("/api/units", json={"code": "henan", "name": "河\n南", "level": "province"})
    assert problem_fields(r) == ["name"]
    # A multi-line reason is valid: the request gets as far as Temporal, which is down here.
    r = http.post("/api/applications/A123/cancel", json={"reason": "客户撤回\n另行申请"})
    problem(r, 503)


def test_an_empty_unit_is_refused_as_the_schema_says(http: TestClient) -> None:
    schema = http.get("/openapi.json").json()["components"]["schemas"]["ApplicationCreate"]
    assert "" not in schema["properties"]["unit"]["enum"]
    assert problem_fields(http.post("/api/applications", json=application(unit=""))) == ["unit"]


# -- the OpenAPI document -----------------------------------------------------------------------


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_every_error_response_is_a_documented_problem(http: TestClient) -> None:
    doc = http.get("/openapi.json").json()
    for path, method, op in operations(doc):
        codes = {int(c) for c in op["responses"] if c.isdigit()}
        assert 500 in codes, (path, method)
        for code, response in op["responses"].items():
            if int(code) >= 400:
                assert list(response["content"]) == [PROBLEM_JSON], (path, method, code)
    assert "HTTPValidationError" not in doc["components"]["schemas"]


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/applications", "post", {201, 401, 403, 409, 422, 503}),
        ("/api/applications/{application_no}", "get", {200, 401, 403, 404, 422, 503}),
        ("/api/applications/{application_no}/pause", "post", {200, 401, 403, 404, 409, 422, 503}),
        ("/api/staff", "post", {201, 401, 403, 409, 422}),
        ("/api/staff/{code}", "patch", {200, 401, 403, 404, 409, 422}),
        ("/api/units", "post", {201, 401, 403, 409, 422}),
        ("/api/notifications/dispatch", "post", {202, 401, 403, 404, 503}),
        ("/health", "get", {200, 503}),
        ("/api/grid/feeders", "get", {200, 401, 403, 422}),
        ("/api/grid/feeders", "post", {201, 401, 403, 409, 422}),
        ("/api/grid/feeders/{rid}", "get", {200, 401, 403, 404, 422}),
        ("/api/grid/feeders/{rid}", "patch", {200, 401, 403, 404, 409, 422}),
        ("/api/grid/feeders/import", "post", {200, 401, 403, 413, 422}),
        ("/api/grid/open-capacity", "get", {200, 401, 403, 422}),
        ("/api/grid/reservations", "post", {200, 401, 403, 409, 422}),
        ("/api/grid/reservations/release", "post", {200, 401, 403, 422}),
        ("/api/auth/token", "post", {200, 401, 422, 429}),
        ("/api/plan-preview", "post", {200, 422}),
    ],
)
def test_routes_declare_what_they_answer(
    http: TestClient, path: str, method: str, codes: set[int]
) -> None:
    op = http.get("/openapi.json").json()["paths"][path][method]
    assert codes | {500} == {int(c) for c in op["responses"]}


def test_bodies_are_declared_models_without_open_objects(http: TestClient) -> None:
    doc = http.get("/openapi.json").json()
    for path, method, op in operations(doc):
        if "requestBody" in op:
            content = op["requestBody"]["content"]
            schema = next(iter(content.values()))["schema"]
            assert "$ref" in schema or schema.get("type") == "string", (path, method)
    text = str(doc)
    assert "'additionalProperties': True" not in text
    # Lists of staff and units are lists of declared models.
    listed = doc["paths"]["/api/staff"]["get"]["responses"]["200"]["content"]
    assert listed["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/StaffPublic"
    }
    # CSV imports take text, as the staff import does.
    for path in ("/api/staff/import", "/api/grid/feeders/import"):
        body = doc["paths"][path]["post"]["requestBody"]["content"]
        assert list(body) == ["text/csv"] and body["text/csv"]["schema"]["type"] == "string"
