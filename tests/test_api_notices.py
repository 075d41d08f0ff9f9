"""The notice endpoints over HTTP, against the dev server and a worker: the inbox a 10 kV
application's notices arrive in, the answers (agreed, rejected with an opinion), issuing again
by hand, the summary, and the problems they answer (404 unknown, 409 closed, 422 naming the
field)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from readmodel.demo_org import seed_demo_org
from tests.support import new_application_no
from tests.test_api_applications import body, eventually


@pytest.fixture
def org(session_engine: Engine) -> Engine:
    seed_demo_org(session_engine)
    return session_engine


def fields(r: httpx.Response) -> list[str]:
    return [e["field"] for e in r.json().get("errors", [])]


async def inbox(api: httpx.AsyncClient, **query: str) -> list[dict[str, Any]]:
    r = await api.get("/api/notices", params=query)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_the_inbox_and_the_answers(api: httpx.AsyncClient, org: Engine) -> None:
    no = new_application_no()
    assert (await api.post("/api/applications", json=body(no))).status_code == 201

    async def issued() -> bool:
        return len(await inbox(api, application=no)) == 3

    # Generous: in the whole suite the shared worker may still be clearing hundreds of first
    # tasks another test's import started (what is tested is that the notices come).
    await eventually(issued, timeout=60)
    items = await inbox(api, application=no, state="open")
    assert sorted(n["department"] for n in items) == ["development", "dispatch", "operations"]
    assert all(n["kind"] == "joint_survey" and n["round"] == 1 for n in items)
    assert all(n["due_at"] and "level" in n for n in items)
    by_dept = {n["department"]: n["id"] for n in items}
    assert [n["id"] for n in await inbox(api, application=no, department="dispatch")] == [
        by_dept["dispatch"]
    ]

    # Problems first: an unknown notice, a bad body, a rejection without an opinion.
    r = await api.post("/api/notices/NO-SUCH-NOTICE/answer", json={"result": "agreed"})
    assert r.status_code == 404
    url = f"/api/notices/{by_dept['operations']}/answer"
    r = await api.post(url, json={"result": "maybe", "by": "co-ops-smx"})
    assert r.status_code == 422 and fields(r) == ["result"]
    dev_url = f"/api/notices/{by_dept['development']}/answer"
    r = await api.post(dev_url, json={"result": "rejected", "by": "co-dev-smx"})
    assert r.status_code == 422 and fields(r) == ["opinion"]

    for dept in ("operations", "dispatch"):
        r = await api.post(
            f"/api/notices/{by_dept[dept]}/answer", json={"result": "agreed", "by": f"co-{dept}"}
        )
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["result"]) == ("answered", "agreed")
    r = await api.post(url, json={"result": "agreed", "by": "co-ops-smx"})
    assert r.status_code == 409 and fields(r) == ["notice_id"]

    opinion = {"result": "rejected", "opinion": "缺少规划红线图", "by": "co-dev-smx"}
    r = await api.post(dev_url, json=opinion)
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["opinion"]) == ("rejected", "缺少规划红线图")

    # Issued again by hand: a new round for development, with a fresh clock.
    issue = f"/api/applications/{no}/notices"
    r = await api.post(issue, json={"kind": "no_such_kind", "departments": ["development"]})
    assert r.status_code == 422 and fields(r) == ["kind"]
    r = await api.post(issue, json={"kind": "joint_survey", "departments": ["nobody"]})
    assert r.status_code == 422 and fields(r) == ["departments"]
    r = await api.post(issue, json={"kind": "protection_setting", "departments": ["dispatch"]})
    assert r.status_code == 422 and fields(r) == ["kind"]
    r = await api.post(issue, json={"kind": "joint_survey", "departments": ["development"]})
    assert r.status_code == 200, r.text
    assert [(n["department"], n["round"], n["state"]) for n in r.json()] == [
        ("development", 2, "open")
    ]
    status = (await api.get(f"/api/applications/{no}")).json()
    starts = [e for e in status["events"] if e["event"] == "joint_survey.started"]
    assert len(starts) == 2
    assert {n["id"]: n["state"] for n in status["notices"]}[by_dept["development"]] == "rejected"

    summary = (await api.get("/api/notices/summary", params={"unit": "henan/sanmenxia"})).json()
    depts = {d["department"]: d for d in summary["departments"]}
    assert depts["development"]["open"] >= 1
    assert depts["operations"]["answered"] >= 1
    assert depts["operations"]["average_answer_hours"] is not None

    # Cancelled: what is still open is withdrawn.
    r = await api.post(f"/api/applications/{no}/cancel", json={"reason": "测试撤销"})
    assert r.status_code == 200, r.text

    async def withdrawn() -> bool:
        return [n["state"] for n in await inbox(api, application=no, state="open")] == []

    await eventually(withdrawn, timeout=60)
    round_two = next(n for n in await inbox(api, application=no) if n["round"] == 2)
    assert round_two["state"] == "withdrawn"
    r = await api.post(f"/api/notices/{round_two['id']}/answer", json={"result": "agreed"})
    assert r.status_code == 409
