"""Alembic's environment for the read model.

Run two ways: by readmodel.migrate (every process's start, with a connection that already
holds the migration lock, passed as `config.attributes["connection"]`), and by the `alembic`
command line, which connects to DATABASE_URL itself.
"""

from __future__ import annotations

import logging.config
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from readmodel import register_tables

config = context.config
register_tables()
target_metadata = SQLModel.metadata


def render_item(kind: str, obj: Any, _autogen: AutogenContext) -> str | Literal[False]:
    """Revisions name SQLAlchemy's own types, never the models' (a revision must keep meaning
    what it meant when the models have moved on)."""
    if kind != "type":
        return False
    if isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if isinstance(obj, TypeDecorator):
        return f"sa.{type(obj.impl_instance).__name__}()"
    return False


def configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        # SQLite alters a table by copying it: batch operations do that, and run as plain
        # ALTERs on PostgreSQL.
        render_as_batch=True,
        compare_type=True,
    )


def run() -> None:
    given: Connection | None = config.attributes.get("connection")
    if given is not None:
        configure(given)
        with context.begin_transaction():
            context.run_migrations()
        return
    if config.config_file_name is not None:
        logging.config.fileConfig(config.config_file_name)
    from core.config import get_settings
    from core.db import make_engine

    engine = make_engine(get_settings().effective_database_url)
    try:
        with engine.begin() as conn:
            configure(conn)
            context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported: run them against a database")
run()
