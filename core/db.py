"""The application database: read models and reference data (Temporal holds process state).

Its schema is migrated by readmodel.migrate (Alembic), never created here."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy import Engine, event, text
from sqlmodel import Session, create_engine

from core.config import Settings, get_settings

# The worker runs activities on up to 16 threads (worker.py) and the API a few more.
SQLITE_POOL_SIZE = 20


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # Enough pooled connections for every worker thread: a connection opened beyond the
        # pool is closed on return, and each new one pays for the PRAGMAs below again.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False},
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=SQLITE_POOL_SIZE,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # The worker and the API write concurrently; WAL lets readers proceed meanwhile
            # and busy_timeout turns a lock collision into a short wait instead of an error.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL never corrupts and skips an fsync per commit; a power cut can
            # lose the last commits of this read model, which the workflows rewrite (every
            # projection carries the whole row) at their next change.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=5000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


@lru_cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def get_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return engine_for(settings.effective_database_url)


def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
