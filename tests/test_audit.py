"""The audit trail and the timeline's actor, on the real dev server with a worker: every change
made through the API is recorded with who and from where, and the workflow's timeline names
the signed-in member who recorded each event, hold and cancel (tests sign in as
tests.support.TEST_SUPERUSER_CODE)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.support import TEST_SUPERUSER_CODE, new_application_no
from tests.test_api_applications import body


async def test_changes_are_audited_and_the_timeline_names_the_actor(
    api: httpx.AsyncClient,
) -> None:
    no = new_application_no()
    started = datetime.now(UTC) - timedelta(seconds=1)
    assert (await api.post("/api/applications", json=body(no))).status_code == 201
    event = {"event": "site_survey.started", "by": "cm-001", "actor": "someone-else"}
    r = await api.post(f"/api/applications/{no}/events", json=event)
    assert r.status_code == 200, r.text
    assert r.json()["recorded"]["actor"] == TEST_SUPERUSER_CODE  # what was sent is replaced
    assert (await api.post(f"/api/applications/{no}/pause", json={"reason": "客户原因"})).is_success
    assert (await api.post(f"/api/applications/{no}/cancel", json={"reason": "撤回"})).is_success

    status = (await api.get(f"/api/applications/{no}")).json()
    actors = {e["event"]: e.get("actor") for e in status["timeline"]}
    assert actors["site_survey.started"] == TEST_SUPERUSER_CODE
    assert actors["cancelled"] == TEST_SUPERUSER_CODE
    assert actors["accept.started"] is None  # the workflow's own entry
    # `by` stays what the clerk typed.
    assert [e["by"] for e in status["timeline"] if e["event"] == "site_survey.started"] == [
        "cm-001"
    ]

    trail = (await api.get("/api/audit", params={"application": no})).json()
    assert [e["action"] for e in trail["items"]] == [
        "application.cancel",
        "application.pause",
        "application.event",
        "application.create",
    ]
    first = trail["items"][-1]
    assert first["actor"] == TEST_SUPERUSER_CODE and first["address"]
    assert trail["items"][-2]["detail"] == {"event": "site_survey.started"}
    assert "测试客户" not in str(trail) and "13800000000" not in str(trail)
    since = await api.get("/api/audit", params={"application": no, "from": started.isoformat()})
    assert since.json()["total"] == 4
    later = started + timedelta(hours=1)
    none = await api.get("/api/audit", params={"application": no, "from": later.isoformat()})
    assert none.json()["total"] == 0
    by_actor = await api.get("/api/audit", params={"actor": "nobody"})
    assert by_actor.json()["items"] == []
