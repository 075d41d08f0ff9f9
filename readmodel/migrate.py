"""Bring the read model's database to the newest schema (Alembic, readmodel/migrations).

Every process calls it at start (readmodel.init_db): `make run`'s launcher before it starts the
others, then the worker and the API, which find the database at head and take no lock. Where
several start at once against a database that is behind, one migrates and the others wait:
- PostgreSQL: a transaction-scoped advisory lock, taken before the version is read;
- SQLite: `BEGIN IMMEDIATE`, the database's write lock, retried until MIGRATION_WAIT_S.
The migration runs inside that transaction, so on either database it applies whole or not at
all (PostgreSQL's and SQLite's DDL are transactional).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

log = logging.getLogger("readmodel.migrate")

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Any constant: the advisory lock's key, the same in every process of the system.
PG_LOCK_KEY = 0x6772_6964  # "grid"
#: How long a process waits for another's migration of a SQLite database.
MIGRATION_WAIT_S = 600.0


class UnknownRevision(RuntimeError):
    """The database was migrated by a newer version of the code than this one."""


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


@lru_cache(maxsize=1)
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None, "readmodel/migrations has no revision"
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade_to_head(engine: Engine) -> bool:
    """Migrate the database to the newest revision; False when it was there already."""
    with engine.connect() as conn:
        if current_revision(conn) == head_revision():
            return False
    with _migration_lock(engine) as conn:
        current = current_revision(conn)
        if current == head_revision():
            return False  # another process migrated it while this one waited
        if current is not None and not _known(current):
            raise UnknownRevision(
                f"the database is at schema revision {current}, which this version does not "
                "know: a newer version migrated it; run that version, or restore a backup"
            )
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        log.info("migrating the database from %s to %s", current or "empty", head_revision())
        command.upgrade(cfg, "head")
        return True


def _known(revision: str) -> bool:
    try:
        return _script().get_revision(revision) is not None
    except (ResolutionError, CommandError):
        return False


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other process's migration can share; committed
    when the block ends, rolled back if it raises."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        elif engine.dialect.name == "sqlite":
            _begin_immediate(conn)
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def _begin_immediate(conn: Connection) -> None:
    # The driver's own transaction handling would begin lazily, without the write lock; an
    # explicit BEGIN IMMEDIATE takes it now (the connection's busy_timeout waits a while each
    # time), and the driver then runs the DDL inside this transaction.
    deadline = time.monotonic() + MIGRATION_WAIT_S
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            conn.rollback()
            log.info("waiting for another process's migration of the database")
