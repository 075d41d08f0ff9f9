"""Chaos: while applications go through their lifecycles over HTTP, the worker is SIGKILLed at
random moments several times and the dev server once; the launcher restarts them (as in
`make run`). Afterwards nothing is lost: every application is there with exactly the events it
was given, every customer message is queued exactly once per key and sent exactly once, and the
read model equals the workflows' state (reconciliation finds no drift).

`pytest -k chaos` selects it; `make soak` runs it longer (CHAOS_APPS, CHAOS_WORKER_KILLS,
CHAOS_SEED).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from readmodel.outbox import OutboxRow
from tests.running_system import System, temporal_cli, wait_until
from tests.support import new_application_no

pytestmark = [
    pytest.mark.launcher,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="the parent-death signal and /proc are Linux's"
    ),
]

APPS = int(os.environ.get("CHAOS_APPS", "12"))
WORKER_KILLS = int(os.environ.get("CHAOS_WORKER_KILLS", "4"))
SEED = int(os.environ.get("CHAOS_SEED", str(time.time_ns() % 10_000)))
#: Bounds every wait: the whole test stays within a few minutes even when something hangs.
STEP_DEADLINE_S = 90.0
PHONE = "13800000000"
#: Applications driven at once.
DRIVERS = 6
#: However slow the kills, the drivers stop starting applications here.
MAX_APPS = 10 * APPS

HV = [
    "joint_survey.started", "site_survey.started", "joint_survey.completed",
    "site_survey.completed", "plan_reply.completed", "joint_drawing_review.started",
    "joint_drawing_review.completed", "customer_works.started", "customer_works.completed",
    "completion_inspection.started", "joint_acceptance.started", "joint_acceptance.completed",
    "completion_inspection.completed", "contract.completed", "meter_install.completed",
    "dispatch_agreement.completed", "outage_plan.started", "outage_plan.completed",
    "energize.completed", "terminal_commissioning.started", "terminal_commissioning.completed",
    "archive.started", "archive.completed",
]  # fmt: skip
LV = [
    "site_survey.completed", "meter_install.completed", "terminal_commissioning.started",
    "terminal_commissioning.completed", "archive.started", "archive.completed",
]  # fmt: skip


class Plan:
    """One application's lifecycle: what it is sent, and what it must end as."""

    def __init__(self, i: int) -> None:
        self.no = new_application_no()
        kind = i % 3
        self.hv = kind != 1
        # Every third is accepted days ago: its deadlines have passed, warnings are raised.
        backdated = i % 6 == 0
        self.events = HV if self.hv else LV
        self.cancel = kind == 2
        if self.cancel:
            self.events = HV[:5]
        accepted = datetime.now(UTC) - timedelta(days=4 if backdated else 0, minutes=1)
        self.body = {
            "application_no": self.no,
            "unit": "henan/sanmenxia",
            "business_type": "hv" if self.hv else "lv_residential",
            "voltage": "10kV" if self.hv else "220V",
            "capacity_kva": 630 if self.hv else 8,
            "customer": {"name": "测试客户", "phone": PHONE},
            "customer_manager": "cm-001",
            "accepted_at": accepted.isoformat(),
        }

    @property
    def final_state(self) -> str:
        return "cancelled" if self.cancel else "completed"

    @property
    def progress(self) -> set[str]:
        kinds = {"accepted"}
        if "plan_reply.completed" in self.events:
            kinds.add("plan_replied")
        if "energize.completed" in self.events:
            kinds.add("energized")
        return kinds


def insist(step: Callable[[], bool], what: str) -> None:
    """Retry a step through restarts (503s, refused connections, timeouts) until it holds."""
    deadline = time.monotonic() + STEP_DEADLINE_S
    while True:
        try:
            if step():
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still failing after {STEP_DEADLINE_S:.0f} s")
        time.sleep(0.3)


def drive(system: System, plan: Plan) -> None:
    """Create the application and send its events, each retried with its idempotency key
    until answered (the worker or the server may die under any request)."""
    with httpx.Client(base_url=system.url, timeout=20, headers=system.auth) as http:

        def create() -> bool:
            r = http.post("/api/applications", json=plan.body)
            return r.status_code in (201, 409)  # 409: an earlier attempt got through

        insist(create, f"create {plan.no}")
        for n, event in enumerate(plan.events):

            def send(event: str = event, n: int = n) -> bool:
                # The key makes a retry after a lost answer safe: answered, not recorded again.
                r = http.post(
                    f"/api/applications/{plan.no}/events",
                    json={"event": event},
                    headers={"Idempotency-Key": f"{plan.no}-{n}"},
                )
                assert r.status_code not in (404, 409, 422), r.text
                return r.status_code == 200

            insist(send, f"{plan.no} {event}")
        if plan.cancel:

            def cancel() -> bool:
                # Never judged by reading the application back: a write made in a workflow
                # task that died with the worker can show a cancel the workflow never recorded.
                r = http.post(
                    f"/api/applications/{plan.no}/cancel",
                    json={"reason": "chaos"},
                    headers={"Idempotency-Key": f"{plan.no}-cancel"},
                )
                # 409 "closed": only this cancel closes it, so an earlier attempt got through.
                closed = r.status_code == 409 and r.json().get("type", "").endswith("closed")
                return r.status_code == 200 or closed

            insist(cancel, f"cancel {plan.no}")


def kill(system: System, role: str) -> None:
    # The child may be between a death and its restart (the worker also exits while the dev
    # server is down): wait for it rather than fail, or a killed one is never replaced.
    pid = wait_until(lambda: system.children().get(role), STEP_DEADLINE_S)
    assert pid, f"no {role} to kill:\n{system.output[-3000:]}"
    os.kill(pid, signal.SIGKILL)
    back = wait_until(lambda: (system.children().get(role) or pid) != pid, STEP_DEADLINE_S)
    assert back, f"{role} was not restarted:\n{system.output[-3000:]}"


def chaos(system: System, rng: random.Random) -> list[str]:
    """SIGKILL the worker WORKER_KILLS times at random moments, the dev server once."""
    actions = ["worker"] * WORKER_KILLS
    actions.insert(rng.randrange(1, len(actions) + 1), "temporal")
    for role in actions:
        time.sleep(rng.uniform(0.5, 4.0))
        kill(system, role)
    return actions


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    s = System(tmp_path / "data")
    # Customer messages may leave at any hour, and the dispatcher looks every minute.
    s.env.update({"SMS_PROGRESS_HOURS": "00:00-23:59", "SMS_DISPATCH_POLL_MINUTES": "1"})
    s.start()
    yield s
    s.stop()


def test_chaos_killed_worker_and_restarted_server_lose_nothing(system: System) -> None:
    rng = random.Random(SEED)
    print(f"\nchaos seed {SEED}: at least {APPS} applications, {WORKER_KILLS} worker kills")
    plans: list[Plan] = []
    done = threading.Event()

    def lifecycles() -> None:
        # New applications keep coming until every kill has happened among them (and never
        # past a bound, whatever happens to the killing).
        while (len(plans) < APPS or not done.is_set()) and len(plans) < MAX_APPS:
            plan = Plan(len(plans))
            plans.append(plan)
            drive(system, plan)

    with ThreadPoolExecutor(max_workers=DRIVERS + 1) as pool:
        driving = [pool.submit(lifecycles) for _ in range(DRIVERS)]
        try:
            killed = chaos(system, rng)
        finally:
            # Also when a kill fails: the drivers must stop, or leaving this block waits on
            # them for ever.
            done.set()
        for f in driving:
            f.result()
    print(f"killed: {killed}; {len(plans)} applications")
    with httpx.Client(base_url=system.url, timeout=30, headers=system.auth) as http:
        check_applications(http, plans)
        check_messages(http, system, plans)
        check_read_model(http, system, plans)


def check_applications(http: httpx.Client, plans: list[Plan]) -> None:
    for p in plans:
        r = http.get(f"/api/applications/{p.no}")
        assert r.status_code == 200, f"{p.no} lost: {r.text}"
        status = r.json()
        assert status["state"] == p.final_state, p.no
        # Exactly the events sent: none lost, none recorded twice by a retried request.
        assert [e["event"] for e in status["events"]] == p.events, p.no


def outbox(system: System) -> list[OutboxRow]:
    engine = create_engine(f"sqlite:///{system.data_dir / 'app.db'}")
    try:
        with engine.connect() as conn:
            return [OutboxRow.model_validate(r) for r in conn.execute(select(OutboxRow)).mappings()]
    finally:
        engine.dispose()


def check_messages(http: httpx.Client, system: System, plans: list[Plan]) -> None:
    mine = {p.no: p for p in plans}
    rows = [r for r in outbox(system) if r.application_no in mine]
    keys = Counter((r.application_no, r.monitor, r.level, r.phone) for r in rows)
    assert [k for k, n in keys.items() if n > 1] == []
    for p in plans:
        got = {
            r.monitor.removeprefix("progress.")
            for r in rows
            if r.kind == "progress" and r.application_no == p.no
        }
        assert got == p.progress, p.no
    # Every customer message leaves exactly once, killed dispatches notwithstanding.
    http.post("/api/notifications/dispatch")

    def all_sent() -> bool:
        progress = [r for r in outbox(system) if r.application_no in mine and r.kind == "progress"]
        return all(r.state == "sent" for r in progress)

    assert wait_until(all_sent, STEP_DEADLINE_S, every=1.0), "customer messages left unsent"
    sent = [r for r in outbox(system) if r.application_no in mine and r.state == "sent"]
    lines = (system.data_dir / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    written = Counter(json.loads(line)["message_id"] for line in lines if line.strip())
    assert [i for i, n in written.items() if n > 1] == []
    assert {r.message_id for r in sent} <= set(written)


def evidence(system: System, no: str) -> str:
    """What an operator would look at: the workflow's description, its history's tail and the
    row (for the failure message)."""
    out = [f"-- {no}"]
    for args in (("workflow", "describe"), ("workflow", "show")):
        try:
            text = temporal_cli(system, *args, "--workflow-id", f"app-{no}")
        except Exception as exc:
            text = repr(exc)
        out.append(text[-2500:])
    engine = create_engine(f"sqlite:///{system.data_dir / 'app.db'}")
    with engine.connect() as conn:
        row = (
            conn.execute(
                select(OutboxRow.metadata.tables["application"]).where(
                    OutboxRow.metadata.tables["application"].c.application_no == no
                )
            )
            .mappings()
            .first()
        )
    engine.dispose()
    out.append(str(dict(row) if row else None)[:1500])
    return "\n".join(out)


def check_read_model(http: httpx.Client, system: System, plans: list[Plan]) -> None:
    mine = {p.no for p in plans}

    def settled() -> dict[str, Any] | None:
        report = http.post("/api/operations/reconcile", params={"dry_run": "true"}).json()
        drifted = [d for d in report["drifted"] if d["application_no"] in mine]
        return None if drifted or mine & set(report["unreadable"]) else report

    # The last writes may still be in flight right after the last answer: the read model
    # must reach the workflows' state by itself, without a repair.
    report = wait_until(settled, 30, every=1.0)
    if report is None:
        last = http.post("/api/operations/reconcile", params={"dry_run": "true"}).json()
        pytest.fail(
            f"read model differs from the workflows: {json.dumps(last)[:3000]}\n"
            + "\n".join(evidence(system, d["application_no"]) for d in last["drifted"][:3])
        )
    assert not mine & set(report["orphans"])
    assert report["checked"] >= len(plans)
