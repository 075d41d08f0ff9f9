"""The launcher keeps the system up: each child killed with SIGKILL comes back and the system
answers again; killing the launcher takes its children with it; a second launcher on the same
data folder is refused with the first one's PID; SIGINT and SIGTERM stop everything in order.

Real processes throughout (the launcher, the dev server, the worker, uvicorn), on free ports
with a temporary data folder. Select them with `pytest -m launcher`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.running_system import ROOT, System, alive, port_open, wait_until
from tests.support import new_application_no

pytestmark = [
    pytest.mark.launcher,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="the parent-death signal and /proc are Linux's"
    ),
]

BACK_WITHIN_S = 60.0


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """One system for the tests that kill a child: each leaves it whole again."""
    system = System(tmp_path_factory.mktemp("supervised") / "data")
    system.start()
    yield system
    system.stop()


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    s = System(tmp_path / "data")
    yield s
    if s.proc and s.proc.poll() is None:
        s.stop()


def kill_child(system: System, role: str) -> tuple[int, int]:
    """SIGKILL one child; returns its pid and the console's length at that moment."""
    pid = system.children()[role]
    since = len(system.lines)
    os.kill(pid, signal.SIGKILL)
    return pid, since


def replaced(system: System, role: str, old: int) -> int:
    new = wait_until(lambda: (system.children().get(role) or old) != old, BACK_WITHIN_S)
    assert new, f"{role} was not restarted:\n{system.output[-3000:]}"
    return system.children()[role]


def healthy(system: System) -> bool:
    try:
        return httpx.get(f"{system.url}/health", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


def create_and_read(system: System, no: str | None = None) -> str:
    """Post an application and read it back from its workflow (a query: a worker must answer)."""
    no = no or new_application_no()
    with httpx.Client(base_url=system.url, timeout=30, headers=system.auth) as http:
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
        assert_running(http, no)
    return no


def assert_running(http: httpx.Client, no: str) -> None:
    got = http.get(f"/api/applications/{no}")
    assert got.status_code == 200, got.text
    assert got.json()["state"] == "running"


def test_a_killed_worker_is_restarted_and_work_goes_on(running: System) -> None:
    old, since = kill_child(running, "worker")
    assert running.wait_for_line("worker was killed by SIGKILL", BACK_WITHIN_S, since)
    assert running.wait_for_line("restarting in", BACK_WITHIN_S, since)
    assert replaced(running, "worker", old) != old
    create_and_read(running)


def test_a_killed_api_is_restarted(running: System) -> None:
    old, since = kill_child(running, "api")
    assert replaced(running, "api", old) != old
    assert wait_until(lambda: healthy(running), BACK_WITHIN_S), running.output[-3000:]
    assert running.wait_for_line("api was killed by SIGKILL", 1, since)
    create_and_read(running)


def test_a_killed_dev_server_is_restarted_on_the_same_data(running: System) -> None:
    before = create_and_read(running)
    old, since = kill_child(running, "temporal")
    assert replaced(running, "temporal", old) != old
    assert wait_until(lambda: healthy(running), BACK_WITHIN_S), running.output[-3000:]
    assert running.wait_for_line("temporal dev server was killed by SIGKILL", 1, since)
    # The worker and the API outlived the server and reconnected to the new one.
    with httpx.Client(base_url=running.url, timeout=30, headers=running.auth) as http:
        assert_running(http, before)
    create_and_read(running)


def test_a_second_launcher_is_refused_naming_the_first(running: System) -> None:
    second = subprocess.run(
        [sys.executable, "launcher.py"],
        cwd=ROOT,
        env=running.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    said = second.stdout + second.stderr
    assert f"PID {running.pid}" in said, said
    assert running.url in said, said
    assert healthy(running)


def test_a_killed_launcher_takes_its_children_and_leaves_no_stale_lock(system: System) -> None:
    system.start()
    children = system.children()
    assert set(children) == {"temporal", "worker", "api"}, children
    launcher = system.proc
    assert launcher is not None
    launcher.kill()
    launcher.wait(30)
    assert wait_until(lambda: not any(alive(p) for p in children.values()), BACK_WITHIN_S), {
        role: pid for role, pid in children.items() if alive(pid)
    }
    # The ports are free and the lock died with its holder: the next start just works.
    assert wait_until(
        lambda: (
            not any(port_open(p) for p in (system.temporal_port, system.ui_port, system.api_port))
        ),
        BACK_WITHIN_S,
    )
    system.start()
    assert healthy(system)
    assert system.stop() == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_everything_in_order(system: System, sig: signal.Signals) -> None:
    system.start()
    children = system.children()
    since = len(system.lines)
    assert system.stop(sig) == 0
    stopping = [
        line.partition("stopping ")[2].strip()
        for line in system.lines[since:]
        if "launcher: stopping " in line
    ]
    assert stopping == ["api", "worker", "temporal dev server"], system.output[-3000:]
    assert not [role for role, pid in children.items() if alive(pid)]
