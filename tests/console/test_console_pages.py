"""The console's pages over HTTP (the browser flows are in test_console_browser.py): what each
page shows, the chart of one application, and that every text is escaped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from activities.projection import ProjectionActivities
from api.app import create_app
from api.deps import get_app_settings, get_db_engine, get_temporal
from contracts.application import (
    ApplicationInput,
    ApplicationProfile,
    ApplicationStatus,
    Customer,
    HoldRequest,
    ProjectionInput,
    RecordEventRequest,
)
from contracts.plans import PlanRecord
from core.config import Settings
from domain import answers
from domain.ledger import ApplicationLedger
from domain.rules import check_event, check_hold
from domain.start import start_input
from domain.views import projection_input, row
from readmodel.applications import ApplicationRow, WarningRow
from tests.plans.support import Grid, plan_for
from tests.reports.scenario import Scenario, t

HOSTILE = '<script>alert("x")</script>'


def lived_c9() -> tuple[ProjectionInput, ApplicationStatus]:
    """A Sanmenxia 10 kV application across National Day with a week's hold, its plan reply
    late enough for warnings, as its workflow would project it and answer its status."""
    inp = ApplicationInput(
        application_no="C-009",
        profile=ApplicationProfile(
            unit="henan/sanmenxia",
            business_type="hv",
            voltage="10kV",
            capacity_kva=630,
            accepted_at=t("2026-09-28 09:00"),
        ),
        customer=Customer(name="测试客户", phone="13800000000"),
        customer_manager="cm-007",
    )
    book = ApplicationLedger(start_input(inp), inp.profile.accepted_at)
    for name, at in [
        ("site_survey.completed", "2026-09-29 10:00"),
        ("pause", "2026-09-30 09:00"),
        ("resume", "2026-10-09 09:00"),
        ("plan_reply.completed", "2026-10-30 09:00"),
    ]:
        when = t(at)
        rec = (
            check_hold(book, name, HoldRequest(reason="客户原因", at=when), when)
            if name in ("pause", "resume")
            else check_event(book, RecordEventRequest(event=name, at=when, note=HOSTILE), when)
        )
        book.add_event(rec)
        book.sync(when)
    now = t("2026-11-10 09:00")
    ev, _ = book.sync(now)
    projection = projection_input(
        book, row(book, ev), now, 0, list(book.timeline), list(book.warnings)
    )
    return projection, answers.status(book, ev)


def plan_c9() -> PlanRecord:
    """The plan the engine makes for it on a one-feeder grid, as the status carries it."""
    grid = Grid()
    grid.point("P-NEAR", 300, feeder="F1")
    return PlanRecord(
        version=1,
        kind="supply",
        trigger="site_survey.completed",
        state="approved",
        made_at=t("2026-09-29 10:00"),
        plan=plan_for(grid),
    )


@pytest.fixture
def client(db_engine: Engine, tmp_path: Path) -> TestClient:
    sc = Scenario(db_engine)
    sc.application("C-001", "henan/sanmenxia", "hv", "10kV", "2026-11-02 09:00", state="running",
                   stage="plan_reply", manager="cm-007", warning_level="yellow",
                   next_due="2026-11-20 09:00")  # fmt: skip
    sc.application("C-002", "henan/sanmenxia", "lv_residential", "220V", "2026-11-03 09:00",
                   state="running", stage="site_survey", manager="cm-007")  # fmt: skip
    sc.application("C-003", "shanghai", "hv", "10kV", "2026-11-03 09:00", state="running",
                   manager="cm-other")  # fmt: skip
    sc.warning("C-001", "hv.plan_reply", "plan_reply", "yellow", "2026-11-16 09:00", open_=True)
    sc.warning("C-003", "hv.plan_reply", "plan_reply", "red", "2026-11-20 09:00", open_=True)
    projection, status = lived_c9()
    ProjectionActivities(db_engine).project_application(projection)
    # Stored as the close stores it, so the page reads it without asking Temporal.
    with Session(db_engine) as s:
        found = s.get(ApplicationRow, "C-009")
        assert found is not None
        found.state = "completed"
        stored = status.model_copy(update={"state": "completed", "plan": plan_c9()})
        found.final_status = stored.model_dump(mode="json")
        s.add(found)
        for w in s.exec(select(WarningRow).where(WarningRow.application_no == "C-009")):
            w.open = False  # as the close leaves them
            s.add(w)
        s.commit()
    app = create_app()
    settings = Settings(data_dir=tmp_path)
    app.dependency_overrides[get_db_engine] = lambda: db_engine
    app.dependency_overrides[get_app_settings] = lambda: settings
    # No Temporal: the pages here read the database (a closed application's stored status).
    app.dependency_overrides[get_temporal] = lambda: None
    return TestClient(app)


def test_my_applications_with_levels_and_next_steps(client: TestClient) -> None:
    r = client.get("/console/my", params={"customer_manager": "cm-007"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "C-001" in page and "C-002" in page and "C-003" not in page
    assert 'class="level level-yellow"' in page and "黄色预警" in page
    assert "办理【供电方案答复】，2026-11-20 09:00 前" in page and "办理【现场勘查】" in page
    # The most urgent first.
    assert page.index("C-001") < page.index("C-002")
    # Remembered; without a choice, the signed-in member's own applications (none here).
    assert "C-001" in client.get("/console/my").text
    assert "C-001" not in TestClient(client.app).get("/console/my").text


def test_warning_board_of_a_unit(client: TestClient) -> None:
    page = client.get("/console/warnings", params={"unit": "henan"}).text
    assert "C-001" in page and "C-003" not in page
    counts = dict(re.findall(r'data-level="(\w+)">.*?<b>(\d+)</b>', page, re.S))
    assert counts == {"blue": "0", "yellow": "1", "orange": "0", "red": "0"}
    assert "C-003" in client.get("/console/warnings").text


def test_one_application_is_charted(client: TestClient) -> None:
    r = client.get("/console/applications/C-009")
    assert r.status_code == 200, r.text
    page = r.text
    assert '<svg id="timeline"' in page
    assert "hv.plan_reply" in page
    # National Day and the weekends are shaded; the week's hold is shaded too.
    assert page.count('class="shade-rest"') >= 9
    assert page.count('class="shade-hold"') == 1
    assert 'class="warning-mark"' in page
    # What staff typed is shown as text, never run as markup.
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    # Its plan: the state, the connection point chosen and its route.
    assert 'id="plan" data-state="approved"' in page and "P-NEAR（390 m）" in page
    # A closed application offers no form; an unknown one answers 404 without Temporal.
    assert 'id="event-form"' not in page


def test_the_reports_page_draws_its_charts(client: TestClient) -> None:
    page = client.get("/console/reports", params={"from": "2026-01-01", "to": "2026-12-31"}).text
    assert "平均接电时间" in page and page.count("<svg") >= 3
    assert "format=xlsx" in page


def test_htmx_is_served_by_the_app(client: TestClient) -> None:
    r = client.get("/console/static/htmx.min.js")
    assert r.status_code == 200 and "htmx" in r.text[:2000]
    assert client.get("/console/static/../pages.py").status_code == 404
    assert "/console/static/htmx.min.js" in client.get("/console/my").text
    # Pages, not API: the console stays out of the OpenAPI document.
    assert not [p for p in client.get("/openapi.json").json()["paths"] if p.startswith("/console")]
