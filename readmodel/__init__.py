"""The database tables the API reads: projections the workflows write, and reference data.

Table classes end in `Row` (`ApplicationRow`, `StaffRow`, `OutboxRow`); `...Base`, `...Public`
and `...In` are their shared fields, answers and inputs, as in the FastAPI template.
"""

from __future__ import annotations

from sqlalchemy import Engine

from core.db import create_tables


def init_db(engine: Engine) -> None:
    """Create (or bring up to date) every table of the read model."""
    # Imported for the side effect of registering the tables on SQLModel.metadata.
    import readmodel.applications
    import readmodel.calendar_publication
    import readmodel.grid
    import readmodel.integrations
    import readmodel.organisation
    import readmodel.outbox
    import readmodel.reservations  # noqa: F401

    create_tables(engine)
