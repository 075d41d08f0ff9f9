"""The database tables the API reads: projections the workflows write, and reference data.

Table classes end in `Row` (`ApplicationRow`, `StaffRow`, `OutboxRow`); `...Base`, `...Public`
and `...In` are their shared fields, answers and inputs, as in the FastAPI template.
"""

from __future__ import annotations

from sqlalchemy import Engine

from core.db import create_tables


def register_tables() -> None:
    """Register every table of the read model on SQLModel.metadata (a module defining a table
    must be imported here: tests/test_migrations.py checks it)."""
    import readmodel.applications
    import readmodel.grid
    import readmodel.organisation
    import readmodel.outbox
    import readmodel.reservations  # noqa: F401


def init_db(engine: Engine) -> None:
    """Create (or bring up to date) every table of the read model."""
    register_tables()
    create_tables(engine)
