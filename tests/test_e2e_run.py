"""End to end, as the README runs it: launcher → embedded dev server + worker + API.

Checks what an operator relies on: the system comes up, an application posted over HTTP is a
workflow visible to the `temporal` CLI by its search attributes, Ctrl-C stops all three
processes, and a second start finds the application again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.running_system import System, port_open, temporal_cli
from tests.support import new_application_no

pytestmark = pytest.mark.launcher


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    s = System(tmp_path / "data")
    yield s
    if s.proc and s.proc.poll() is None:
        s.stop()


def test_run_post_stop_restart(system: System) -> None:
    system.start()
    no = new_application_no()
    with httpx.Client(base_url=system.url, timeout=30) as http:
        assert http.get("/health").json() == {"status": "ok", "temporal": "ok", "database": "ok"}
        r = http.post(
            "/api/applications",
            json={
                "application_no": no,
                "unit": "henan/sanmenxia",
                "business_type": "hv",
                "voltage": "10kV",
                "capacity_kva": 630,
                "customer": {"name": "测试客户"},
            },
        )
        assert r.status_code == 201, r.text
        assert http.get(f"/api/applications/{no}").json()["state"] == "running"

    # The operator's view: the workflow, found through the project's search attributes.
    deadline = time.monotonic() + 15
    while True:
        listed = json.loads(
            temporal_cli(
                system,
                "workflow",
                "list",
                "--query",
                "Unit = 'henan/sanmenxia' AND Stage = 'plan_reply' AND State = 'running'",
                "--output",
                "json",
            )
            or "[]"
        )
        if any(w["execution"]["workflowId"] == f"app-{no}" for w in listed):
            break
        assert time.monotonic() < deadline, listed
        time.sleep(0.5)

    assert system.stop() == 0
    for port in (system.temporal_port, system.ui_port, system.api_port):
        assert not port_open(port), f"port {port} still open after Ctrl-C"

    system.start()
    with httpx.Client(base_url=system.url, timeout=30) as http:
        status = http.get(f"/api/applications/{no}")
        assert status.status_code == 200, status.text
        assert status.json()["state"] == "running"
    assert system.stop() == 0
