"""A throwaway PostgreSQL server for tests: Debian's `postgresql` package, started in a
temporary directory on a free port, stopped at the end of the session.

PostgreSQL refuses to run as root; under root the server runs as the package's `postgres`
user (through `runuser`). Where the binaries are missing the tests that need it are skipped
with the reason printed (`apt-get install -y postgresql`, as .ci/run does).

Select the tests that use it with `pytest -k postgres`: their names say `postgres`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from core.db import make_engine
from tests.support import free_port

SERVER_USER = "postgres"
START_TIMEOUT_S = 60


@dataclass(frozen=True)
class PgServer:
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"


def pg_bin_dir() -> Path | None:
    """The newest installed server's bin directory, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> float:
    try:
        return float(Path(path).parent.parent.name)
    except ValueError:
        return 0.0


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", SERVER_USER, "--", *cmd]


def skip_reason() -> str | None:
    if pg_bin_dir() is None:
        return "PostgreSQL is not installed (apt-get install -y postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and there is no {SERVER_USER!r} user to run the server"
        if shutil.which("runuser") is None:
            return "running as root and `runuser` is missing"
    return None


def start_server(bin_dir: Path, root: Path) -> PgServer:
    port = free_port()
    data, log = root / "data", root / "server.log"
    run = {"check": True, "capture_output": True, "timeout": START_TIMEOUT_S}
    subprocess.run(  # type: ignore[call-overload]
        _as_server_user(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "test", "--auth=trust", "-E", "UTF8",
             "--no-locale"]
        ),
        **run,
    )  # fmt: skip
    # Durability is not what these tests are about: fsync off keeps the server quick.
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
    )
    subprocess.run(  # type: ignore[call-overload]
        _as_server_user(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
             "-t", str(START_TIMEOUT_S), "start"]
        ),
        **run,
    )  # fmt: skip
    return PgServer(port=port, user="test")


def stop_server(bin_dir: Path, root: Path) -> None:
    subprocess.run(
        _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-m", "fast", "stop"]),
        capture_output=True,
        timeout=START_TIMEOUT_S,
        check=False,
    )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    reason = skip_reason()
    if reason is not None:
        print(f"\nPostgreSQL tests skipped: {reason}")
        pytest.skip(reason)
    bin_dir = pg_bin_dir()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="pg-test-"))
    if os.geteuid() == 0:
        shutil.chown(root, user=SERVER_USER)
    try:
        server = start_server(bin_dir, root)
    except subprocess.CalledProcessError as exc:
        log = root / "server.log"
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        stderr = exc.stderr.decode(errors="replace")[-2000:] if exc.stderr else ""
        pytest.fail(f"PostgreSQL did not start: {stderr}\n{detail}")
    try:
        yield server
    finally:
        stop_server(bin_dir, root)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(server: PgServer) -> str:
    """A new, empty database on the server; returns its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.url(name)


@pytest.fixture
def pg_engine(pg_server: PgServer) -> Iterator[Engine]:
    """A fresh database with the read model's tables, on the session's server."""
    from readmodel import init_db

    engine = make_engine(fresh_database(pg_server))
    init_db(engine)
    yield engine
    engine.dispose()
