"""End to end, as the README runs it: launcher → embedded dev server + worker + API.

Checks what an operator relies on: the system comes up, an application posted over HTTP is a
workflow visible to the `temporal` CLI by its search attributes, Ctrl-C stops all three
processes, and a second start finds the application again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, new_application_no

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


class System:
    def __init__(self, data_dir: Path) -> None:
        self.temporal_port = free_port()
        self.ui_port = free_port()
        self.api_port = free_port()
        self.env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "EMBEDDED_TEMPORAL_PORT": str(self.temporal_port),
            "EMBEDDED_TEMPORAL_UI_PORT": str(self.ui_port),
            "API_PORT": str(self.api_port),
        }
        self.env.pop("TEMPORAL_ADDRESS", None)
        self.env.pop("DATABASE_URL", None)
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "launcher.py"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        seen = []
        deadline = time.monotonic() + 90
        for line in self.proc.stdout:
            seen.append(line)
            if "Ctrl-C stops everything" in line:
                return
            if time.monotonic() > deadline:
                break
        self.stop()
        pytest.fail("the system did not come up:\n" + "".join(seen[-30:]))

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        try:
            return self.proc.wait(60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    s = System(tmp_path / "data")
    yield s
    if s.proc and s.proc.poll() is None:
        s.stop()


def temporal_cli(system: System, *args: str) -> str:
    out = subprocess.run(
        [str(BIN / "temporal"), *args, "--address", f"127.0.0.1:{system.temporal_port}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return out.stdout


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
