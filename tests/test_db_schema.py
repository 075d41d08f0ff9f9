"""A database made by an earlier version is brought up to date at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from core.db import add_missing_columns, make_engine
from readmodel import init_db


def test_columns_added_since_an_earlier_version_are_added(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        # The application table as the first version made it.
        conn.execute(
            text(
                "CREATE TABLE application (application_no VARCHAR(64) PRIMARY KEY, "
                "unit VARCHAR(128) NOT NULL, business_type VARCHAR(64) NOT NULL, "
                "voltage VARCHAR(16), capacity_kva FLOAT, state VARCHAR(16) NOT NULL, "
                "stage VARCHAR(64) NOT NULL, customer_manager VARCHAR(64), "
                "accepted_at DATETIME NOT NULL, updated_at DATETIME NOT NULL, "
                "customer_name VARCHAR(200) NOT NULL, customer_phone VARCHAR(20))"
            )
        )
        conn.execute(
            text(
                "INSERT INTO application VALUES ('A1', 'henan', 'hv', '10kV', 630, 'running', "
                "'accept', NULL, '2026-09-21 02:00:00', '2026-09-21 02:00:00', 'x', NULL)"
            )
        )
    init_db(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("application")}
    assert {"warning_level", "next_due_at", "too_short", "final_status"} <= columns
    with engine.connect() as conn:
        too_short = conn.execute(text("SELECT too_short FROM application")).scalar_one()
    assert too_short in (0, False)  # the old row got the column's default
    assert add_missing_columns(engine) == []  # idempotent


def test_a_required_column_it_cannot_add_is_named(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'odd.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE timeline (id INTEGER PRIMARY KEY)"))
    with pytest.raises(RuntimeError, match="timeline lacks the required column application_no"):
        init_db(engine)
