"""End to end, as the README runs it: launcher → embedded dev server + worker + API.

Checks what an operator relies on: the system comes up with demo sign-ins, an application
posted over HTTP by a signed-in member is a workflow visible to the `temporal` CLI by its search
attributes, its input is ciphertext in the history and plain text through the codec server,
Ctrl-C stops all three processes, and a second start finds the application again.
"""

from __future__ import annotations

import base64
import json
import re
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
    # Without a bootstrap administrator: `make run` makes demo sign-ins and prints them.
    s = System(tmp_path / "data", bootstrap=False)
    yield s
    if s.proc and s.proc.poll() is None:
        s.stop()


def demo_admin_token(system: System) -> str:
    found = re.search(r"sign-in:\s+admin / (\S+)\s+\(superuser\)", system.output)
    assert found, system.output[-3000:]
    r = httpx.post(
        f"{system.url}/api/auth/token",
        data={"username": "admin", "password": found.group(1)},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def payload_texts(history_json: str) -> list[str]:
    """The payloads' data in a history shown as JSON (base64), as text."""
    found = re.findall(r'"data":\s*"([A-Za-z0-9+/=]+)"', history_json)
    return [base64.b64decode(d).decode("utf-8", "replace") for d in found]


def test_run_post_stop_restart(system: System) -> None:
    system.start()
    no = new_application_no()
    auth = {"Authorization": f"Bearer {demo_admin_token(system)}"}
    for line in ("sign-in:      cm-001 / ", "sign-in:      op-henan / ", "Codec server: "):
        assert line in system.output, line
    assert "PAYLOAD_KEYS: generated" in system.output
    with httpx.Client(base_url=system.url, timeout=30, headers=auth) as http:
        assert httpx.get(f"{system.url}/api/applications").status_code == 401
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

    # The customer's name is ciphertext in Temporal, and plain through the codec server.
    show = ("workflow", "show", "--workflow-id", f"app-{no}", "--output", "json")
    raw = temporal_cli(system, *show)
    assert "YmluYXJ5L2VuY3J5cHRlZA==" in raw  # binary/encrypted
    assert payload_texts(raw) and not any("测试客户" in text for text in payload_texts(raw))
    codec = ("--codec-endpoint", f"{system.url}/codec", "--codec-auth", auth["Authorization"])
    decoded = temporal_cli(system, *show, *codec)
    assert "YmluYXJ5L2VuY3J5cHRlZA==" not in decoded
    assert any("测试客户" in plain for plain in payload_texts(decoded))

    assert system.stop() == 0
    for port in (system.temporal_port, system.ui_port, system.api_port):
        assert not port_open(port), f"port {port} still open after Ctrl-C"

    system.start()
    with httpx.Client(base_url=system.url, timeout=30, headers=auth) as http:
        status = http.get(f"/api/applications/{no}")
        assert status.status_code == 200, status.text
        assert status.json()["state"] == "running"
    assert system.stop() == 0
