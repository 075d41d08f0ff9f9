"""A request repeated with its Idempotency-Key (a client retrying after a timeout or a lost
answer) is answered with the first one's outcome and records nothing twice."""

from __future__ import annotations

import httpx
from temporalio.worker import Worker

from tests.support import new_application_no, problem_fields
from tests.test_api_applications import body


async def test_a_repeated_event_with_its_key_is_recorded_once(
    api: httpx.AsyncClient, dev_worker: Worker
) -> None:
    no = new_application_no()
    assert (await api.post("/api/applications", json=body(no))).status_code == 201
    event = {"event": "site_survey.started"}

    async def send(key: str) -> httpx.Response:
        url = f"/api/applications/{no}/events"
        return await api.post(url, json=event, headers={"Idempotency-Key": key})

    first, again = await send(f"{no}-1"), await send(f"{no}-1")
    assert first.status_code == again.status_code == 200
    assert again.json()["recorded"] == first.json()["recorded"]
    events = (await api.get(f"/api/applications/{no}")).json()["events"]
    assert [e["event"] for e in events].count("site_survey.started") == 1
    # Without a key (or with another) the same event is a new request.
    other = await send(f"{no}-2")
    assert other.status_code in (200, 409, 422)
    if other.status_code == 200:
        events = (await api.get(f"/api/applications/{no}")).json()["events"]
        assert [e["event"] for e in events].count("site_survey.started") == 2


async def test_a_repeated_cancel_with_its_key_gets_the_first_answer(
    api: httpx.AsyncClient, dev_worker: Worker
) -> None:
    no = new_application_no()
    await api.post("/api/applications", json=body(no))
    headers = {"Idempotency-Key": f"cancel-{no}"}
    first = await api.post(f"/api/applications/{no}/cancel", json={"reason": "x"}, headers=headers)
    assert first.status_code == 200 and first.json()["state"] == "cancelled"
    # Closed now: without the key a second cancel is a conflict; the key does not reopen it.
    again = await api.post(f"/api/applications/{no}/cancel", json={"reason": "x"})
    assert again.status_code == 409


async def test_a_malformed_key_is_refused_naming_the_header(api: httpx.AsyncClient) -> None:
    no = new_application_no()
    r = await api.post(
        f"/api/applications/{no}/events",
        json={"event": "site_survey.started"},
        headers={"Idempotency-Key": "has spaces and is far too long " * 3},
    )
    assert r.status_code == 422
    assert any("idempotency" in f.lower() for f in problem_fields(r))
