"""The application database: read models and reference data (Temporal holds process state)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy import Engine, event, inspect, text
from sqlmodel import Session, SQLModel, create_engine

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


def create_tables(engine: Engine) -> None:
    """Create the tables registered on SQLModel.metadata (readmodel.init_db registers them)."""
    SQLModel.metadata.create_all(engine)
    add_missing_columns(engine)


def add_missing_columns(engine: Engine) -> list[str]:
    """Bring tables made by an earlier version up to date by adding the columns it lacked.

    `make run` keeps its database between versions and create_all() never alters a table. The
    schema has only ever grown by nullable or defaulted columns, which this adds; anything else
    (a renamed or retyped column) is refused at start with the table and column named, rather
    than failing projections one by one later. Returns "table.column" for each column added.
    """
    added: list[str] = []
    inspector = inspect(engine)
    with engine.begin() as conn:
        for table in SQLModel.metadata.sorted_tables:
            have = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in have:
                    continue
                default = getattr(column.default, "arg", None)
                if not column.nullable and (default is None or callable(default)):
                    raise RuntimeError(
                        f"database table {table.name} lacks the required column {column.name}; "
                        "migrate it or start from an empty database"
                    )
                ddl = column.type.compile(dialect=engine.dialect)
                clause = f" DEFAULT {_literal(default)}" if default is not None else ""
                conn.execute(
                    text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {ddl}{clause}')
                )
                added.append(f"{table.name}.{column.name}")
    return added


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


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
