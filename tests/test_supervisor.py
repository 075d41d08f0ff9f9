"""The launcher's pieces that need no running system: the restart delays, how an exit is
described, and the lock that keeps one launcher per data folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from launcher import AlreadyRunning, acquire_lock, already_running_message
from supervisor import Backoff, describe_exit


def test_backoff_doubles_up_to_its_cap_and_resets_after_a_stable_run() -> None:
    b = Backoff(initial_s=1, cap_s=30, stable_after_s=60)
    assert [b.after_exit(uptime_s=2) for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert b.after_exit(uptime_s=61) == 1
    assert b.after_exit(uptime_s=2) == 2


def test_exits_are_described_by_code_or_signal() -> None:
    assert describe_exit(3) == "exited with code 3"
    assert describe_exit(-signal.SIGKILL) == "was killed by SIGKILL"


def test_a_held_lock_names_its_holder(tmp_path: Path) -> None:
    path = tmp_path / "launcher.lock"
    info = {"pid": 4242, "started": "2026-01-01T00:00:00+00:00", "api": "http://127.0.0.1:8000"}
    with acquire_lock(path, info):
        with pytest.raises(AlreadyRunning) as refused:
            acquire_lock(path, {"pid": 1})
        assert refused.value.holder == info
        said = already_running_message(refused.value.holder, path)
        assert "PID 4242" in said and "http://127.0.0.1:8000" in said
    with acquire_lock(path, {"pid": 1}):
        assert json.loads(path.read_text()) == {"pid": 1}


def test_a_lock_held_by_a_killed_process_does_not_block(tmp_path: Path) -> None:
    path = tmp_path / "launcher.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\n"
            "f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX)\n"
            "f.write('{\"pid\": 7}'); f.flush(); print('held', flush=True); time.sleep(60)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    with pytest.raises(AlreadyRunning):
        acquire_lock(path, {"pid": os.getpid()})
    holder.kill()
    holder.wait()
    with acquire_lock(path, {"pid": os.getpid()}):
        assert json.loads(path.read_text())["pid"] == os.getpid()
