"""The database tables the API reads: projections the workflows write, and reference data.

Table classes end in `Row` (`ApplicationRow`, `StaffRow`, `OutboxRow`); `...Base`, `...Public`
and `...In` are their shared fields, answers and inputs, as in the FastAPI template.
"""

from __future__ import annotations

from sqlalchemy import Engine


def register_tables() -> None:
    """Register every table of the read model on SQLModel.metadata (a module defining a table
    must be imported here: tests/test_migrations.py checks it)."""
    import readmodel.applications
    import readmodel.audit
    import readmodel.calendar_publication
    import readmodel.coordination
    import readmodel.grid
    import readmodel.imports
    import readmodel.integrations
    import readmodel.organisation
    import readmodel.outages
    import readmodel.outbox
    import readmodel.report_facts
    import readmodel.reservations  # noqa: F401


def init_db(engine: Engine) -> None:
    """Migrate the database to the newest schema (readmodel/migrate.py; safe to call from
    several processes at once)."""
    from readmodel.migrate import upgrade_to_head

    register_tables()
    upgrade_to_head(engine)
