"""/api/units, /api/staff (with CSV import) and /api/notifications, on an app of our own
database; Temporal (the dev server) only for the dispatcher's wake endpoint."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import Engine
from temporalio.testing import WorkflowEnvironment

from activities.notifications import NotificationActivities
from api.app import attach, create_app
from calendars import get_calendar
from contracts.application import ProgressNotice
from contracts.notifications import DispatchRequest
from core.config import Settings
from core.db import make_engine
from readmodel import init_db
from readmodel.demo_org import DEMO_STAFF, seed_demo_org
from tests.notification_scenarios import TZ, RecordingGateway, sample_notice
from tests.support import problem, problem_fields

CN = get_calendar("CN")


@pytest_asyncio.fixture
async def client(
    tmp_path: Path, dev_env: WorkflowEnvironment
) -> AsyncIterator[tuple[httpx.AsyncClient, Engine]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'api.db'}")
    init_db(engine)
    app = create_app()
    attach(app, Settings(data_dir=tmp_path), engine, dev_env.client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c, engine
    engine.dispose()


UNITS = [
    {"code": "henan", "name": "国网河南省电力公司", "level": "province"},
    {"code": "henan/sanmenxia", "name": "国网三门峡供电公司", "level": "city"},
]


async def test_units_are_created_under_their_parent(
    client: tuple[httpx.AsyncClient, Engine],
) -> None:
    c, _ = client
    orphan = await c.post(
        "/api/units", json={"code": "henan/xinyang", "name": "信阳", "level": "city"}
    )
    # Well-formed, but the tree lacks its parent: a clash with what is stored.
    assert problem_fields(orphan, 409) == ["code"]
    for u in UNITS:
        assert (await c.post("/api/units", json=u)).status_code == 201
    assert (await c.post("/api/units", json=UNITS[0])).status_code == 409
    wrong_level = await c.post(
        "/api/units", json={"code": "henan/sanmenxia/lingbao", "name": "灵宝", "level": "city"}
    )
    assert problem_fields(wrong_level) == ["level"]
    got = (await c.get("/api/units", params={"under": "henan"})).json()
    assert [u["code"] for u in got] == ["henan", "henan/sanmenxia"]
    assert got[1]["parent"] == "henan"
    one = await c.get("/api/units/henan/sanmenxia")
    assert one.status_code == 200 and one.json()["level"] == "city"
    assert problem_fields(await c.get("/api/units/henan/nowhere"), 404) == ["code"]


STAFF: dict[str, Any] = {
    "code": "cm-900",
    "name": "测试客户经理",
    "roles": ["customer_manager"],
    "unit": "henan/sanmenxia",
    "phone": "+86 139-0000-9000",
}


async def test_staff_validation_names_the_field_and_never_echoes_the_phone(
    client: tuple[httpx.AsyncClient, Engine],
) -> None:
    c, _ = client
    for u in UNITS:
        await c.post("/api/units", json=u)
    created = await c.post("/api/staff", json=STAFF)
    assert created.status_code == 201
    assert created.json()["phone"] == "13900009000"  # normalised
    assert created.json()["department"] == "marketing" and created.json()["active"] is True
    assert (await c.post("/api/staff", json=STAFF)).status_code == 409

    cases: list[tuple[dict[str, Any], str]] = [
        ({"phone": "0398-2812345"}, "phone"),
        ({"roles": ["wizard"]}, "roles"),
        ({"roles": []}, "roles"),
        ({"unit": "Henan"}, "unit"),
        ({"roles": ["coordinator"]}, "department"),
        ({"department": "sales"}, "department"),
        ({"name": ""}, "name"),
    ]
    for change, field in cases:
        body = {**STAFF, "code": "x-1", **change}
        r = await c.post("/api/staff", json=body)
        assert field in problem_fields(r), (change, r.json())
        assert "0398" not in r.text
    missing_unit = await c.post("/api/staff", json={**STAFF, "code": "x-2", "unit": "henan/x"})
    # Well-formed, naming a unit the organisation lacks: a conflict with what is stored.
    assert problem_fields(missing_unit, 409) == ["unit"]
    # Nothing half-created.
    assert [s["code"] for s in (await c.get("/api/staff")).json()] == ["cm-900"]


async def test_staff_patch_and_filters(client: tuple[httpx.AsyncClient, Engine]) -> None:
    c, _ = client
    for u in UNITS:
        await c.post("/api/units", json=u)
    await c.post("/api/staff", json=STAFF)
    r = await c.patch(
        "/api/staff/cm-900", json={"active": False, "roles": ["connection_specialist"]}
    )
    assert r.status_code == 200 and r.json()["active"] is False
    assert (await c.patch("/api/staff/cm-900", json={"phone": "12"})).status_code == 422
    assert (await c.patch("/api/staff/cm-900", json={"code": "cm-901"})).status_code == 422
    assert (await c.patch("/api/staff/nobody", json={"active": True})).status_code == 404
    listed = await c.get(
        "/api/staff", params={"unit": "henan", "role": "connection_specialist", "active": False}
    )
    assert [s["code"] for s in listed.json()] == ["cm-900"]
    assert (await c.get("/api/staff", params={"role": "wizard"})).status_code == 422


async def test_changes_need_a_permitted_sign_in(
    tmp_path: Path, dev_env: WorkflowEnvironment
) -> None:
    from core.security import create_token
    from readmodel.accounts import ensure_superuser, set_password
    from tests.support import secured

    engine = make_engine(f"sqlite:///{tmp_path / 'tok.db'}")
    init_db(engine)
    settings = Settings(data_dir=tmp_path)
    app = secured(create_app())
    attach(app, settings, engine, dev_env.client)
    ensure_superuser(engine, "root", "root-password")
    admin = {"Authorization": f"Bearer {create_token(settings, 'root').access_token}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        assert (await c.post("/api/units", json=UNITS[0])).status_code == 401
        ok = await c.post("/api/units", json=UNITS[0], headers=admin)
        assert ok.status_code == 201
        staff = {**STAFF, "unit": UNITS[0]["code"], "password": "cm-password"}
        assert (await c.post("/api/staff", json=staff, headers=admin)).status_code == 201
        assert "password" not in (await c.get("/api/staff", headers=admin)).text
        assert set_password(engine, staff["code"], "cm-password")
        cm = {"Authorization": f"Bearer {create_token(settings, staff['code']).access_token}"}
        refused = await c.post("/api/staff/import", content=b"code\n", headers=cm)
        assert refused.status_code == 403 and "staff.manage" in refused.text
        assert (await c.get("/api/units", headers=cm)).status_code == 200
    engine.dispose()


GOOD_CSV = (
    "\ufeffcode,name,roles,unit,department,phone,active\n"
    "cm-1,甲,customer_manager,henan/sanmenxia,,13800001001,\n"
    "co-1,乙,coordinator;dept_director,henan/sanmenxia,operations,13800001002,true\n"
    "pdh-1,丙,provincial_dept_head,henan,operations,+8613800001003,no\n"
)


async def test_csv_import_all_or_nothing_with_a_report_per_row(
    client: tuple[httpx.AsyncClient, Engine],
) -> None:
    c, _ = client
    for u in UNITS:
        await c.post("/api/units", json=u)
    bad = (
        "code,name,roles,unit,department,phone,active\n"
        "cm-1,甲,customer_manager,henan/sanmenxia,,13800001001,\n"
        "cm-2,乙,customer_manager,henan/sanmenxia,,0371-5555555,\n"
        "cm-3,丙,wizard,henan/sanmenxia,,13800001003,\n"
        "cm-4,丁,customer_manager,henan/nowhere,,13800001004,\n"
        "cm-1,戊,customer_manager,henan/sanmenxia,,13800001005,maybe\n"
        "cm-1,己,customer_manager,henan/sanmenxia,,13800001006,\n"
    )
    r = await c.post(
        "/api/staff/import", content=bad.encode(), headers={"content-type": "text/csv"}
    )
    errors = problem(r, 422)["errors"]
    assert [(e["row"], e["field"]) for e in errors] == [
        (3, "phone"),
        (4, "roles"),
        (5, "unit"),
        (6, "active"),
        (7, "code"),
    ]
    assert "0371" not in r.text
    assert (await c.get("/api/staff")).json() == []  # nothing half-imported

    dry = await c.post("/api/staff/import", params={"dry_run": True}, content=GOOD_CSV.encode())
    assert dry.status_code == 200 and dry.json()["created"] == 3
    assert (await c.get("/api/staff")).json() == []
    done = await c.post("/api/staff/import", content=GOOD_CSV.encode())
    assert done.json() == {"created": 3, "updated": 0, "unchanged": 0, "dry_run": False}
    staff = {s["code"]: s for s in (await c.get("/api/staff")).json()}
    assert staff["co-1"]["roles"] == ["coordinator", "dept_director"]
    assert staff["pdh-1"]["active"] is False and staff["pdh-1"]["phone"] == "13800001003"
    again = await c.post("/api/staff/import", content=GOOD_CSV.replace("甲", "甲甲").encode())
    assert (again.json()["updated"], again.json()["unchanged"]) == (1, 2)

    header = await c.post("/api/staff/import", content=b"code,name,colour\nx,y,z\n")
    assert problem_fields(header) == ["header"]


async def test_notifications_list_filters_counts_and_undeliverable(
    client: tuple[httpx.AsyncClient, Engine],
) -> None:
    c, engine = client
    seed_demo_org(engine)
    gw = RecordingGateway(script=["rejected"])
    acts = NotificationActivities(engine, gateway=gw, calendar_for=lambda _r: get_calendar("CN"))
    at = datetime(2026, 9, 22, 8, 30, tzinfo=TZ)
    notice = sample_notice(at - timedelta(hours=1), no="A-API-1")
    notice.roles.append("executive")
    notice.customer_manager = "cm-404"
    acts.enqueue_warning(notice)
    acts.enqueue_warning(sample_notice(at - timedelta(hours=1), level="blue", no="A-API-2"))
    acts.enqueue_progress(
        ProgressNotice(
            application_no="A-API-1", unit="henan/sanmenxia", kind="accepted", at=at, phone=None
        )
    )
    acts.dispatch_due(DispatchRequest(at=at))  # A-API-1 first: one rejected, two sent

    r = await c.get("/api/notifications", params={"application": "A-API-1"})
    assert r.status_code == 200
    page = r.json()
    assert page["counts"] == {"pending": 0, "sent": 2, "failed": 1}
    assert page["total"] == 3
    item = page["items"][0]
    for key in (
        "application_no",
        "monitor",
        "level",
        "phone",
        "role",
        "message",
        "state",
        "attempts",
        "send_after",
        "sent_at",
    ):
        assert key in item
    assert {i["role"] for i in page["items"]} == {
        "connection_specialist",
        "marketing_director",
        "executive",
    }
    assert {(u["role"], u["monitor"]) for u in page["undeliverable"]} == {
        ("customer_manager", "hv.plan_reply"),
        ("customer", "progress.accepted"),
    }

    failed = (await c.get("/api/notifications", params={"state": "failed"})).json()
    assert [i["application_no"] for i in failed["items"]] == ["A-API-1"]
    assert failed["counts"]["sent"] == 5  # counts ignore the state filter

    suffix = DEMO_STAFF[0].phone[-4:]  # cm-001, A-API-2's customer manager
    mine = (await c.get("/api/notifications", params={"phone_suffix": suffix})).json()
    assert [(i["application_no"], i["staff_code"]) for i in mine["items"]] == [
        ("A-API-2", "cm-001")
    ]
    assert (await c.get("/api/notifications", params={"phone_suffix": "12a"})).status_code == 422
    assert (await c.get("/api/notifications", params={"state": "lost"})).status_code == 422


async def test_requeue_endpoint(client: tuple[httpx.AsyncClient, Engine]) -> None:
    c, engine = client
    seed_demo_org(engine)
    acts = NotificationActivities(
        engine, gateway=RecordingGateway(script=["rejected"] * 3), calendar_for=lambda _r: CN
    )
    at = datetime(2026, 9, 22, 8, 30, tzinfo=TZ)
    acts.enqueue_warning(sample_notice(at - timedelta(hours=1), no="A-RQ-1"))
    acts.dispatch_due(DispatchRequest(at=at))
    r = await c.post("/api/notifications/requeue", params={"application": "A-RQ-2"})
    assert r.json() == {"requeued": 0}
    r = await c.post("/api/notifications/requeue", params={"application": "A-RQ-1"})
    assert r.status_code == 200 and r.json() == {"requeued": 3}
    page = (await c.get("/api/notifications", params={"application": "A-RQ-1"})).json()
    assert page["counts"] == {"pending": 3, "sent": 0, "failed": 0}


async def test_wake_endpoint_without_a_running_dispatcher(
    client: tuple[httpx.AsyncClient, Engine],
) -> None:
    c, _ = client
    r = await c.post("/api/notifications/dispatch")
    assert r.status_code == 404


def test_no_personal_data_in_logs_at_info(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'log.db'}")
    init_db(engine)
    seed_demo_org(engine)
    acts = NotificationActivities(
        engine, gateway=RecordingGateway(), calendar_for=lambda _r: get_calendar("CN")
    )
    at = datetime(2026, 9, 22, 8, 30, tzinfo=TZ)
    with caplog.at_level(logging.INFO):
        acts.enqueue_warning(sample_notice(at - timedelta(hours=1)))
        acts.enqueue_progress(
            ProgressNotice(
                application_no="N0001",
                unit="henan/sanmenxia",
                kind="accepted",
                at=at,
                phone="13912345678",
            )
        )
        acts.dispatch_due(DispatchRequest(at=at))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "sent" in text  # the dispatch was logged ...
    for person in DEMO_STAFF:
        assert person.phone not in text and person.name not in text  # ... without people
    assert "13912345678" not in text
    engine.dispose()
