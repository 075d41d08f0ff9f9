"""Who may do what, checked against the production rule (no superuser override).

- every route declares a permission or PUBLIC, and an undeclared one stops the app;
- docs/access.md holds core/access.py's table;
- every endpoint for every role: the guard lets through exactly the roles whose permissions
  cover the route's, and answers 403 naming the permission to the others; another unit's
  application answers 404;
- sign-in: tokens, wrong passwords, expired and tampered tokens, the failure limits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.app import attach, create_app
from api.auth import check_declared, route_declarations
from core.access import PERMISSIONS, ROLE_PERMISSIONS, markdown_table
from core.config import Settings
from core.security import create_token
from readmodel.accounts import ensure_superuser
from readmodel.applications import ApplicationRow
from readmodel.audit import AuditRow
from readmodel.coordination import NoticeRow
from readmodel.demo_org import seed_demo_org
from readmodel.grid import FeederRow, GridCustomerRow, SubstationRow
from readmodel.organisation import StaffRow
from readmodel.outages import OutagePlanRow
from readmodel.outbox import OutboxRow
from tests.support import application_row, secured

ROOT = Path(__file__).resolve().parent.parent
OWN_UNIT = "henan/sanmenxia"
OTHER_UNIT = "henan/xinyang/huangchuan"
OWN_APP, OTHER_APP = "ACC-OWN-0001", "ACC-OTHER-0001"
DEPARTMENT_OF = {
    "coordinator": "operations",
    "dept_deputy_director": "operations",
    "dept_director": "operations",
    "dept_executive": "operations",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        jwt_secret=SecretStr("access-tests-signing-key-0123456789"),
        signin_failures_per_user=3,
        signin_failures_per_address=5,
    )


def _app_row(no: str, unit: str, manager: str | None) -> ApplicationRow:
    return application_row(no, unit, business_type="lv_residential", manager=manager)


@pytest.fixture
def client(db_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    """The production rule, one member per role in the own unit, one application there and one
    in another unit. No Temporal: the guard answers before any route reaches it."""
    seed_demo_org(db_engine)
    with Session(db_engine) as s:
        for role in ROLE_PERMISSIONS:
            s.add(
                StaffRow(
                    code=f"r-{role}",
                    name="测试",
                    roles=[role],
                    unit=OWN_UNIT,
                    department=DEPARTMENT_OF.get(role, "marketing"),
                    phone="13800009999",
                )
            )
        s.add(_app_row(OWN_APP, OWN_UNIT, "r-customer_manager"))
        s.add(_app_row(OTHER_APP, OTHER_UNIT, "cm-hc"))
        s.commit()
    ensure_superuser(db_engine, "root", "root-password-1")
    app = secured(create_app())
    attach(app, settings, db_engine, None)  # type: ignore[arg-type]
    # Not entered: the lifespan would attach the environment's settings and Temporal.
    yield TestClient(app, raise_server_exceptions=False)


def bearer(settings: Settings, code: str, **kw: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(settings, code, **kw).access_token}"}


def endpoints(app: FastAPI) -> list[tuple[str, str, frozenset[str]]]:
    """(method, path, permissions) of every protected route."""
    out = []
    for path, methods, declared in route_declarations(app):
        assert declared is not None, path
        if "public" in declared:
            continue
        for method in sorted(methods - {"HEAD"}):
            out.append((method, path, declared))
    return out


def concrete(path: str, application_no: str) -> str:
    values = {"application_no": application_no, "code": "r-admin", "code:path": OWN_UNIT}
    return re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "x1"), path)


def call(c: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    r = c.request(method, path, headers=headers, data={}, follow_redirects=False)
    return int(r.status_code)


# -- declarations --------------------------------------------------------------------------


def test_every_route_declares_a_permission_or_public() -> None:
    app = create_app()
    undeclared = [(p, m) for p, m, d in route_declarations(app) if d is None]
    assert undeclared == []
    known = set(PERMISSIONS) | {"public"}
    for path, _, declared in route_declarations(app):
        assert declared is not None and declared <= known, path


def test_a_new_route_without_a_declaration_stops_the_app() -> None:
    app = create_app()
    stray = APIRouter()

    @stray.get("/api/stray")
    def stray_route() -> dict[str, str]:
        return {}

    app.include_router(stray)
    with pytest.raises(RuntimeError, match="/api/stray"):
        check_declared(app)


def test_docs_access_md_holds_the_table_of_roles() -> None:
    doc = (ROOT / "docs" / "access.md").read_text(encoding="utf-8")
    table = doc.split("<!-- roles:begin -->")[1].split("<!-- roles:end -->")[0].strip()
    assert table == markdown_table()
    for permission in PERMISSIONS:
        assert f"| `{permission}` |" in doc


# -- every endpoint for every role ------------------------------------------------------


def test_without_a_token_every_protected_endpoint_answers_401(client: TestClient) -> None:
    for method, path, _ in endpoints(client.app):  # type: ignore[arg-type]
        status = call(client, method, concrete(path, OWN_APP), {})
        expected = 303 if path.startswith("/console/") and method == "GET" else 401
        assert status == expected, (method, path, status)


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS))
def test_every_endpoint_for_the_role(client: TestClient, settings: Settings, role: str) -> None:
    headers = bearer(settings, f"r-{role}")
    granted = ROLE_PERMISSIONS[role]
    for method, path, needs in endpoints(client.app):  # type: ignore[arg-type]
        r = client.request(
            method, concrete(path, OWN_APP), headers=headers, data={}, follow_redirects=False
        )
        if needs <= granted:
            assert r.status_code not in (401, 403) or (
                r.status_code == 403 and "application_no" in r.text  # own-unit writers
            ), (role, method, path, r.status_code, r.text)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)
            if not path.startswith("/console/"):
                missing = sorted(needs - granted)
                assert any(p in r.json()["detail"] for p in missing), r.text
        if "{application_no}" in path and needs <= granted:
            other = call(client, method, concrete(path, OTHER_APP), headers)
            assert other == 404, (role, method, path, other)


def test_the_superuser_passes_every_guard(client: TestClient, settings: Settings) -> None:
    headers = bearer(settings, "root")
    for method, path, _ in endpoints(client.app):  # type: ignore[arg-type]
        status = call(client, method, concrete(path, OTHER_APP), headers)
        assert status not in (401, 403), (method, path, status)


@pytest.mark.parametrize(
    ("role", "method", "path", "allowed"),
    [
        ("customer_manager", "POST", "/api/applications/{application_no}/events", True),
        ("customer_manager", "POST", "/api/applications/{application_no}/cancel", False),
        ("connection_specialist", "POST", "/api/applications/{application_no}/cancel", True),
        ("marketing_director", "POST", "/api/applications/{application_no}/events", False),
        ("marketing_director", "GET", "/api/reports/connection-time", True),
        ("executive", "GET", "/api/applications", True),
        ("coordinator", "POST", "/api/applications/{application_no}/pause", False),
        ("operator", "POST", "/api/calendars/{region}/publish", True),
        ("operator", "POST", "/api/notifications/requeue", True),
        ("operator", "POST", "/api/integrations/deliveries/{delivery}/replay", True),
        ("customer_manager", "POST", "/api/calendars/{region}/publish", False),
        ("admin", "POST", "/api/staff", True),
        ("admin", "PATCH", "/api/staff/{code}", True),
        ("operator", "POST", "/api/staff", False),
        ("admin", "POST", "/api/applications/{application_no}/events", False),
        ("integration", "GET", "/api/applications", False),
    ],
)
def test_the_roles_the_issue_names(
    client: TestClient, settings: Settings, role: str, method: str, path: str, allowed: bool
) -> None:
    status = call(client, method, concrete(path, OWN_APP), bearer(settings, f"r-{role}"))
    assert (status not in (401, 403)) is allowed, status


def test_lists_answer_404_for_a_unit_outside_the_scope(
    client: TestClient, settings: Settings
) -> None:
    headers = bearer(settings, "r-marketing_director")
    lists = ("/api/applications", "/api/warnings", "/api/reports/warnings", "/api/staff")
    for path in (*lists, "/api/outages", "/api/outages.ics"):
        assert client.get(path, params={"unit": OTHER_UNIT}, headers=headers).status_code == 404
    listed = client.get("/api/applications", headers=headers).json()["items"]
    assert [a["application_no"] for a in listed] == [OWN_APP]
    units = [u["code"] for u in client.get("/api/units", headers=headers).json()]
    assert OWN_UNIT in units and all(u.startswith(OWN_UNIT) for u in units)
    assert client.get(f"/api/units/{OTHER_UNIT}", headers=headers).status_code == 404
    assert client.get("/api/staff/cm-201", headers=headers).status_code == 404
    assert client.get("/api/staff/cm-201", headers=bearer(settings, "root")).status_code == 200
    assert client.get("/api/staff/cm-001", headers=headers).status_code == 200


def _outage_row(outage_id: str, unit: str) -> OutagePlanRow:
    now = datetime.now(UTC)
    return OutagePlanRow(
        id=outage_id, unit=unit, tier="daily", state="submitted", created_at=now, updated_at=now
    )


def test_another_units_outage_is_neither_listed_nor_found_nor_answered(
    client: TestClient, settings: Settings, db_engine: Engine
) -> None:
    with Session(db_engine) as s:
        s.add(_outage_row("OUT-OWN-1", OWN_UNIT))
        s.add(_outage_row("OUT-OTHER-1", OTHER_UNIT))
        s.commit()
    headers = bearer(settings, "r-connection_specialist")
    listed = client.get("/api/outages", headers=headers).json()["items"]
    assert [o["id"] for o in listed] == ["OUT-OWN-1"]
    assert client.get("/api/outages/OUT-OWN-1", headers=headers).status_code == 200
    for method, path, body in (
        ("GET", "/api/outages/OUT-OTHER-1", None),
        ("POST", "/api/outages/OUT-OTHER-1/approve", {}),
        ("POST", "/api/outages/OUT-OTHER-1/reject", {"reason": "检修"}),
    ):
        r = client.request(method, path, headers=headers, json=body)
        assert r.status_code == 404 and r.json()["errors"][0]["field"] == "outage_id", r.text
    root = bearer(settings, "root")
    assert client.get("/api/outages/OUT-OTHER-1", headers=root).status_code == 200
    # Dispatch's answer: a coordinator of another department may not give it.
    coordinator = bearer(settings, "r-coordinator")
    r = client.post("/api/outages/OUT-OWN-1/approve", headers=coordinator, json={})
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "department", r.text


def _message(no: str, unit: str) -> OutboxRow:
    now = datetime.now(UTC)
    return OutboxRow(
        application_no=no, unit=unit, kind="warning", monitor="hv.plan_reply", level="blue",
        phone="13800001111", role="customer_manager", message="预警", send_after=now,
        send_before=now + timedelta(hours=1), window="warning", created_at=now,
    )  # fmt: skip


def test_the_outbox_shows_the_callers_units_messages_only(
    client: TestClient, settings: Settings, db_engine: Engine
) -> None:
    with Session(db_engine) as s:
        s.add(_message(OWN_APP, OWN_UNIT))
        s.add(_message(OTHER_APP, OTHER_UNIT))
        s.commit()
    headers = bearer(settings, "r-connection_specialist")
    page = client.get("/api/notifications", headers=headers).json()
    assert [m["application_no"] for m in page["items"]] == [OWN_APP]
    assert sum(page["counts"].values()) == 1
    r = client.get("/api/notifications", params={"unit": OTHER_UNIT}, headers=headers)
    assert r.status_code == 404
    everything = client.get("/api/notifications", headers=bearer(settings, "root")).json()
    assert {m["application_no"] for m in everything["items"]} == {OWN_APP, OTHER_APP}


def test_grid_customers_names_and_phones_stay_in_their_unit(
    client: TestClient, settings: Settings, db_engine: Engine
) -> None:
    with Session(db_engine) as s:
        for n, unit in ((1, OWN_UNIT), (2, OTHER_UNIT)):
            s.add(SubstationRow(id=f"S{n}", name="站", unit=unit, voltage="110kV", lon=111, lat=34))
            s.flush()
            s.add(FeederRow(id=f"F{n}", substation=f"S{n}", unit=unit, voltage="10kV",
                            rated_kva=8000, used_kva=0))  # fmt: skip
            s.flush()
            s.add(GridCustomerRow(id=f"C{n}", feeder=f"F{n}", name="客户", phone="13800001111"))
        s.commit()
    headers = bearer(settings, "r-connection_specialist")
    listed = client.get("/api/grid/customers", headers=headers).json()["items"]
    assert [c["id"] for c in listed] == ["C1"]
    assert client.get("/api/grid/customers/C1", headers=headers).status_code == 200
    assert client.get("/api/grid/customers/C2", headers=headers).status_code == 404
    r = client.get("/api/grid/customers", params={"unit": OTHER_UNIT}, headers=headers)
    assert r.status_code == 404
    assert client.get("/api/grid/customers/C2", headers=bearer(settings, "root")).status_code == 200


def test_the_audit_trail_shows_the_changes_of_the_callers_units(
    client: TestClient, settings: Settings, db_engine: Engine
) -> None:
    # Changes made through the API: an application's go to its unit, others to the actor's.
    root = bearer(settings, "root")
    r = client.patch("/api/staff/r-executive", headers=root, json={"phone": "13800007777"})
    assert r.status_code == 200, r.text
    with Session(db_engine) as s:
        s.add(AuditRow(at=datetime.now(UTC), actor="r-customer_manager", action="event.record",
                       application_no=OWN_APP, unit=OWN_UNIT))  # fmt: skip
        s.commit()
    headers = bearer(settings, "r-marketing_director")
    mine = client.get("/api/audit", headers=headers).json()["items"]
    assert [e["application_no"] for e in mine] == [OWN_APP]
    assert client.get("/api/audit", params={"unit": OTHER_UNIT}, headers=headers).status_code == 404
    everything = client.get("/api/audit", headers=root).json()["items"]
    [change] = [e for e in everything if e["target"] == "r-executive"]
    assert change["actor"] == "root" and change["unit"] is not None
    assert not change["unit"].startswith(OWN_UNIT)


def test_a_customer_manager_changes_only_theirs_or_their_units(
    client: TestClient, settings: Settings, db_engine: Engine
) -> None:
    with Session(db_engine) as s:
        s.add(_app_row("ACC-BELOW-0001", f"{OWN_UNIT}/lingbao", "cm-lb"))
        s.commit()
    path = "/api/applications/ACC-BELOW-0001/pause"
    cm = call(client, "POST", path, bearer(settings, "r-customer_manager"))
    specialist = call(client, "POST", path, bearer(settings, "r-connection_specialist"))
    assert cm == 403 and specialist not in (401, 403, 404)


# -- sign-in -------------------------------------------------------------------------------


def test_sign_in_answers_a_token_that_opens_the_api(client: TestClient) -> None:
    r = client.post("/api/auth/token", data={"username": "root", "password": "root-password-1"})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.status_code == 200 and me.json()["superuser"] is True
    assert "root-password-1" not in r.text


def test_expired_and_tampered_tokens_answer_401(client: TestClient, settings: Settings) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    expired = client.get("/api/applications", headers=bearer(settings, "root", now=past))
    assert expired.status_code == 401 and "expired" in expired.text
    token = create_token(settings, "r-operator").access_token
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": "root"}, "another-key-of-enough-length-000", "HS256")
    head, _payload, sig = token.split(".")
    swapped = ".".join((head, forged.split(".")[1], sig))
    for bad in (forged, swapped, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), "x.y.z"):
        r = client.get("/api/applications", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.headers["content-type"] == "application/problem+json"


def test_a_token_of_a_deactivated_member_answers_401(
    client: TestClient, settings: Settings, db_engine: Engine
) -> None:
    headers = bearer(settings, "r-operator")
    with Session(db_engine) as s:
        row = s.exec(select(StaffRow).where(StaffRow.code == "r-operator")).one()
        row.active = False
        s.commit()
    assert client.get("/api/applications", headers=headers).status_code == 401


def test_failed_sign_ins_are_limited_per_user_and_per_address(client: TestClient) -> None:
    def attempt(user: str, password: str) -> int:
        r = client.post("/api/auth/token", data={"username": user, "password": password})
        return int(r.status_code)

    assert [attempt("root", "wrong") for _ in range(3)] == [401, 401, 401]
    limited = client.post("/api/auth/token", data={"username": "root", "password": "wrong"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    # Even the right password waits; another user from the same address still may try ...
    assert attempt("root", "root-password-1") == 429
    assert attempt("nobody", "wrong") == 401
    assert attempt("nobody2", "wrong") == 401
    # ... until the address's own limit (5 failures here).
    assert attempt("nobody3", "wrong") == 429


def test_staff_passwords_are_set_by_admins_and_never_answered(
    client: TestClient, settings: Settings
) -> None:
    admin = bearer(settings, "r-admin")
    body = {
        "code": "cm-new",
        "name": "新客户经理",
        "roles": ["customer_manager"],
        "unit": OWN_UNIT,
        "phone": "13800007777",
        "password": "first-password",
    }
    created = client.post("/api/staff", json=body, headers=admin)
    assert created.status_code == 201 and "password" not in created.text
    signed = client.post(
        "/api/auth/token", data={"username": "cm-new", "password": body["password"]}
    )
    assert signed.status_code == 200
    old_token = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    assert client.get("/api/applications", headers=old_token).status_code == 200
    changed = client.patch("/api/staff/cm-new", json={"password": "second-password"}, headers=admin)
    assert changed.status_code == 200 and "second-password" not in changed.text
    # A new password ends the tokens issued before it (a leaked password, a stolen token).
    ended = client.get("/api/applications", headers=old_token)
    assert ended.status_code == 401 and "password was changed" in ended.text
    fresh = client.post(
        "/api/auth/token", data={"username": "cm-new", "password": "second-password"}
    ).json()["access_token"]
    assert client.get("/api/applications", headers={"Authorization": f"Bearer {fresh}"}).is_success
    again = client.post(
        "/api/auth/token", data={"username": "cm-new", "password": "first-password"}
    )
    assert again.status_code == 401
    short = client.patch("/api/staff/cm-new", json={"password": "short"}, headers=admin)
    assert short.status_code == 422 and "short" not in short.json()["detail"]
    refused = client.patch(
        "/api/staff/cm-new", json={"password": "x" * 12}, headers=bearer(settings, "r-operator")
    )
    assert refused.status_code == 403
    trail = client.get("/api/audit", params={"actor": "r-admin"}, headers=admin).json()
    assert [e["action"] for e in trail["items"]] == ["staff.update", "staff.create"]
    assert "first-password" not in str(trail) and "second-password" not in str(trail)


def test_secrets_never_reach_the_logs(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    client.post("/api/auth/token", data={"username": "root", "password": "not-the-password"})
    r = client.post("/api/auth/token", data={"username": "root", "password": "root-password-1"})
    token = r.json()["access_token"]
    client.get("/api/applications", headers={"Authorization": f"Bearer {token}x"})
    shown = caplog.text + repr(settings) + str(settings.model_dump())
    for secret in ("not-the-password", "root-password-1", token, "access-tests-signing-key"):
        assert secret not in shown


def test_the_console_signs_in_with_a_cookie(client: TestClient) -> None:
    away = client.get("/console/my", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/console/sign-in"
    assert "登录" in client.get("/console/sign-in").text
    wrong = client.post("/console/sign-in", data={"username": "root", "password": "nope"})
    assert wrong.status_code == 401 and "登录" in wrong.text
    ok = client.post(
        "/console/sign-in",
        data={"username": "root", "password": "root-password-1"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and "httponly" in ok.headers["set-cookie"].lower()
    assert client.get("/console/my").status_code == 200
    # The cookie opens the console, not the API.
    assert client.get("/api/applications").status_code == 401
    client.post("/console/sign-out")
    assert client.get("/console/my", follow_redirects=False).status_code == 303


def test_the_audit_trail_takes_instants_with_their_offset(
    client: TestClient, settings: Settings
) -> None:
    headers = bearer(settings, "root")
    for bad in ("0.5", "2026-12-01", "2026-12-01T08:00:00"):
        r = client.get("/api/audit", params={"to": bad}, headers=headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "to", bad
    ok = client.get("/api/audit", params={"from": "2026-12-01T08:00:00+08:00"}, headers=headers)
    assert ok.status_code == 200


def _notice(notice: str, unit: str, department: str) -> NoticeRow:
    now = datetime.now(UTC)
    return NoticeRow(
        id=notice,
        application_no=OWN_APP if unit == OWN_UNIT else OTHER_APP,
        kind="joint_survey",
        department=department,
        unit=unit,
        round=1,
        issued_at=now,
        due_at=now + timedelta(days=1),
        state="open",
    )


def test_a_coordinator_answers_only_their_own_department_s_notices(
    client: TestClient, settings: Settings, db_engine: Engine
) -> None:
    with Session(db_engine) as s:
        s.add(_notice("N-DISPATCH-1", OWN_UNIT, "dispatch"))
        s.add(_notice("N-OTHER-UNIT-1", OTHER_UNIT, "operations"))
        s.commit()
    headers = bearer(settings, "r-coordinator")  # operations
    body = {"result": "agreed", "by": "r-coordinator"}
    r = client.post("/api/notices/N-DISPATCH-1/answer", json=body, headers=headers)
    assert r.status_code == 403, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["department"]
    # Another unit's notice does not exist for them.
    r = client.post("/api/notices/N-OTHER-UNIT-1/answer", json=body, headers=headers)
    assert r.status_code == 404, r.text
    # The inbox shows their unit's notices to anyone who reads notices.
    r = client.get("/api/notices?department=dispatch", headers=headers)
    assert r.status_code == 200
    assert [n["id"] for n in r.json()["items"]] == ["N-DISPATCH-1"]
