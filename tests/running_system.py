"""The whole system as `make run` starts it, for end-to-end tests: the real launcher as a
subprocess on free ports with its own data folder, its console captured line by line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from tests.support import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
T = TypeVar("T")

# How each child shows on its command line.
CHILD_MARKS = {"temporal": "start-dev", "worker": "worker.py", "api": "uvicorn"}


#: The tests' own administrator and signing key, so that a token made here is valid across the
#: API's restarts (tests of the demo sign-ins pass bootstrap=False).
ADMIN, ADMIN_PASSWORD = "e2e-admin", "e2e-admin-password"
JWT_SECRET = "e2e-signing-key-0123456789abcdef"


class System:
    def __init__(self, data_dir: Path, *, bootstrap: bool = True) -> None:
        self.data_dir = data_dir
        self.temporal_port = free_port()
        self.ui_port = free_port()
        self.api_port = free_port()
        self.env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "EMBEDDED_TEMPORAL_PORT": str(self.temporal_port),
            "EMBEDDED_TEMPORAL_UI_PORT": str(self.ui_port),
            "API_PORT": str(self.api_port),
            # The worker's metrics ports too: several systems (and a `make run`) may be up at once.
            "WORKER_METRICS_PORT": str(free_port()),
            "TEMPORAL_METRICS_PORT": str(free_port()),
        }
        self.env.pop("TEMPORAL_ADDRESS", None)
        self.env.pop("DATABASE_URL", None)
        for name in ("BOOTSTRAP_ADMIN_USERNAME", "BOOTSTRAP_ADMIN_PASSWORD", "PAYLOAD_KEYS"):
            self.env.pop(name, None)
        self.env["JWT_SECRET"] = JWT_SECRET
        if bootstrap:
            self.env["BOOTSTRAP_ADMIN_USERNAME"] = ADMIN
            self.env["BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN_PASSWORD
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self._drainer: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def auth(self) -> dict[str, str]:
        """A bearer token of the bootstrap administrator."""
        from pydantic import SecretStr

        from core.config import Settings
        from core.security import create_token

        settings = Settings(jwt_secret=SecretStr(JWT_SECRET))
        return {"Authorization": f"Bearer {create_token(settings, ADMIN).access_token}"}

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def start(self) -> None:
        self.lines = []
        self.proc = subprocess.Popen(
            [sys.executable, "launcher.py"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # Drained all along: the children share this pipe, and a full one would block them.
        self._drainer = threading.Thread(target=self._drain, args=(self.proc,), daemon=True)
        self._drainer.start()
        if not self.wait_for_line("Ctrl-C stops everything", timeout=90):
            self.stop()
            pytest.fail("the system did not come up:\n" + "".join(self.lines[-30:]))

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line)

    def wait_for_line(self, text: str, timeout: float, since: int = 0) -> bool:
        """Whether a console line from index `since` on contains `text`, within `timeout`."""
        return (
            wait_until(lambda: any(text in line for line in self.lines[since:]), timeout)
            is not None
        )

    def stop(self, sig: signal.Signals = signal.SIGINT) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)  # SIGINT is what Ctrl-C sends
        try:
            return self.proc.wait(60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            if self._drainer is not None:
                # The last lines may still be in the pipe; it closes once every child is gone.
                self._drainer.join(10)

    def children(self) -> dict[str, int]:
        """The launcher's children now, by role (Linux: read from /proc)."""
        found: dict[str, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                args = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) != self.pid:
                continue
            for role, mark in CHILD_MARKS.items():
                if mark in args.split("\0"):
                    found[role] = int(entry.name)
        return found


def alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie waiting for its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def wait_until(probe: Callable[[], T | None], timeout: float, every: float = 0.2) -> T | None:
    """The probe's first truthy answer within `timeout`, else None."""
    deadline = time.monotonic() + timeout
    while True:
        answer = probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            return None
        time.sleep(every)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def temporal_cli(system: System, *args: str) -> str:
    out = subprocess.run(
        [str(BIN / "temporal"), *args, "--address", f"127.0.0.1:{system.temporal_port}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return out.stdout
