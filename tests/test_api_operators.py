"""What operators see: the State search attribute, refusals that name their field, instants
in the unit's zone, Chinese summaries with the codes in brackets."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from temporalio.testing import WorkflowEnvironment

from activities.notifications import NotificationActivities
from api.app import create_app
from calendars import get_calendar
from contracts import search_attributes as sa
from contracts.application import ApplicationInput, Customer
from core.config import Settings
from domain.views import summary
from policies import labels
from policies.codes import BUSINESS_TYPES, LEVELS, NOTICE_CODES, STAGE_CODES
from policies.loader import list_units
from policies.profile import ApplicationProfile
from tests.notification_scenarios import sample_notice
from tests.support import free_port, new_application_no, problem_fields


def body(no: str, **overrides: Any) -> dict[str, Any]:
    return {
        "application_no": no,
        "unit": "henan/sanmenxia",
        "business_type": "hv",
        "voltage": "10kV",
        "capacity_kva": 630,
        "customer": {"name": "测试客户"},
        **overrides,
    }


async def listed(env: WorkflowEnvironment, query: str, workflow_id: str) -> bool:
    for _ in range(100):
        if workflow_id in [w.id async for w in env.client.list_workflows(query)]:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_state_tells_cancelled_and_archived_apart(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment
) -> None:
    running, cancelled, archived = (new_application_no() for _ in range(3))
    for no in (running, cancelled, archived):
        assert (await api.post("/api/applications", json=body(no))).status_code == 201
    await api.post(f"/api/applications/{cancelled}/cancel", json={"reason": "客户撤回"})
    for event in ("archive.started", "archive.completed"):
        r = await api.post(f"/api/applications/{archived}/events", json={"event": event})
        assert r.status_code == 200, r.text
    for no, state in ((running, "running"), (cancelled, "cancelled"), (archived, "archived")):
        assert await listed(dev_env, f"State = '{state}'", f"app-{no}"), state
    # Temporal shows both closed ones as Completed; their results say how they ended.
    result = await dev_env.client.get_workflow_handle(f"app-{cancelled}").result()
    assert result["state"] == "cancelled"


async def test_refused_holds_name_the_field(api: httpx.AsyncClient) -> None:
    no = new_application_no()
    await api.post("/api/applications", json=body(no))
    r = await api.post(f"/api/applications/{no}/resume", json={"reason": "not paused"})
    assert problem_fields(r, 409) == ["paused"]
    assert (await api.post(f"/api/applications/{no}/pause", json={"reason": "客户原因"})).is_success
    r = await api.post(f"/api/applications/{no}/pause", json={"reason": "again"})
    assert problem_fields(r, 409) == ["paused"]


def instants(value: Any) -> list[str]:
    """Every ISO instant in an answer (strings with a date and a time)."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in instants(v)]
    if isinstance(value, list):
        return [s for v in value for s in instants(v)]
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T" and value[4] == "-":
        return [value]
    return []


async def test_every_instant_is_in_the_units_zone(api: httpx.AsyncClient) -> None:
    no = new_application_no()
    # Given in UTC, answered in the unit's zone: the same instant.
    accepted = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    r = await api.post("/api/applications", json=body(no, accepted_at=accepted.isoformat()))
    assert r.status_code == 201, r.text
    answers = [r.json()]
    event = {"event": "plan_reply.started", "at": accepted.isoformat()}
    answers.append((await api.post(f"/api/applications/{no}/events", json=event)).json())
    status = (await api.get(f"/api/applications/{no}")).json()
    assert datetime.fromisoformat(status["profile"]["accepted_at"]) == accepted
    answers.append(status)
    for _ in range(100):
        page = (await api.get("/api/applications", params={"unit": "henan/sanmenxia"})).json()
        if any(i["application_no"] == no for i in page["items"]):
            break
        await asyncio.sleep(0.1)
    answers.append(page)
    answers.append((await api.get("/api/warnings", params={"include_closed": True})).json())
    found = [s for a in answers for s in instants(a)]
    assert len(found) > 10
    assert {s[-6:] for s in found} == {"+08:00"}, Counter(s[-6:] for s in found)


def test_notifications_answer_in_the_units_zone(tmp_path: Path) -> None:
    settings = Settings(temporal_address=f"127.0.0.1:{free_port()}", data_dir=tmp_path)
    with TestClient(create_app(settings)) as http:
        engine = http.app.state.engine  # type: ignore[attr-defined]
        acts = NotificationActivities(engine, calendar_for=lambda _r: get_calendar("CN"))
        acts.enqueue_warning(sample_notice(datetime(2026, 9, 22, 1, 30, tzinfo=UTC)))
        page = http.get("/api/notifications").json()
    found = instants(page)
    assert found and {s[-6:] for s in found} == {"+08:00"}


def test_every_code_has_a_chinese_label() -> None:
    assert set(BUSINESS_TYPES) <= set(labels.BUSINESS_TYPES)
    assert set(STAGE_CODES) | set(NOTICE_CODES) <= set(labels.STAGES)
    assert set(LEVELS) <= set(labels.LEVELS)
    assert set(sa.STATE_VALUES.values()) == set(labels.STATES)
    assert set(list_units()) <= set(labels.UNITS)


def test_summary_is_chinese_with_the_codes_in_brackets() -> None:
    profile = ApplicationProfile(
        unit="henan/sanmenxia",
        business_type="hv",
        voltage="10kV",
        capacity_kva=630,
        accepted_at=datetime(2026, 9, 21, 10, tzinfo=UTC),
    )
    inp = ApplicationInput(
        application_no="A0001", profile=profile, customer=Customer(name="测试客户")
    )
    assert summary(inp) == "10kV 高压新装 [hv] 630kVA · 三门峡 [henan/sanmenxia]"
    other = inp.model_copy(update={"profile": profile.model_copy(update={"unit": "x/y"})})
    assert summary(other, "某供电公司") == "10kV 高压新装 [hv] 630kVA · 某供电公司 [x/y]"


def test_search_attributes_fit_the_dev_servers_limits() -> None:
    per_type = Counter(key.indexed_value_type.name for key in sa.ALL)
    for kind, limit in sa.DEV_SERVER_LIMITS.items():
        assert per_type[kind] <= limit, (kind, per_type)
    assert sa.STATE in sa.ALL
    assert "--search-attribute" in sa.dev_server_flags()
    assert "State=Keyword" in sa.dev_server_flags()
