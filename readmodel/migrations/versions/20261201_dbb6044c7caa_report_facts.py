"""The reports' facts (readmodel/report_facts.py) and the timeline's index by event and instant.

Revision ID: dbb6044c7caa
Revises: 0fcf2d22e174
Created: 2026-12-01

The tables come empty: `python scripts/backfill_report_facts.py` writes the facts of the
applications closed before them (docs/reports.md). A database that `create_all` gave the tables
and the index before migrations keeps them; what it lacks of them is added.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dbb6044c7caa"
down_revision: str | Sequence[str] | None = "0fcf2d22e174"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

META = sa.MetaData()

REPORT_APPLICATION = sa.Table(
    "report_application",
    META,
    sa.Column("application_no", sa.String(length=64), nullable=False),
    sa.Column("unit", sa.String(length=128), nullable=False),
    sa.Column("business_type", sa.String(length=64), nullable=False),
    sa.Column("voltage", sa.String(length=16), nullable=True),
    sa.Column("accepted_s", sa.BigInteger(), nullable=False),
    sa.Column("energized_s", sa.BigInteger(), nullable=True),
    sa.Column("installed_s", sa.BigInteger(), nullable=True),
    sa.Column("connected_s", sa.BigInteger(), nullable=True),
    sa.Column("state", sa.String(length=16), nullable=True),
    sa.Column("closed_s", sa.BigInteger(), nullable=True),
    sa.Column("kept_provincial", sa.Integer(), nullable=True),
    sa.Column("kept_national", sa.Integer(), nullable=True),
    sa.Column("full_process_judged", sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint("application_no"),
    sa.Index(
        "ix_report_application_class",
        "unit",
        "business_type",
        "voltage",
        "connected_s",
        "accepted_s",
        "state",
        "kept_provincial",
        "kept_national",
        "full_process_judged",
    ),
    sa.Index("ix_report_application_connected_s", "connected_s"),
    sa.Index("ix_report_application_unit", "unit"),
)
REPORT_MONITOR = sa.Table(
    "report_monitor",
    META,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("application_no", sa.String(length=64), nullable=False),
    sa.Column("unit", sa.String(length=128), nullable=False),
    sa.Column("business_type", sa.String(length=64), nullable=False),
    sa.Column("voltage", sa.String(length=16), nullable=True),
    sa.Column("monitor", sa.String(length=128), nullable=False),
    sa.Column("code", sa.String(length=64), nullable=False),
    sa.Column("state", sa.String(length=16), nullable=False),
    sa.Column("started_s", sa.BigInteger(), nullable=False),
    sa.Column("stopped_s", sa.BigInteger(), nullable=True),
    sa.Column("elapsed_s", sa.BigInteger(), nullable=True),
    sa.Column("elapsed_unit", sa.String(length=16), nullable=True),
    sa.Column("kept_provincial", sa.Integer(), nullable=True),
    sa.Column("kept_national", sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("application_no", "monitor"),
    sa.Index(
        "ix_report_monitor_group",
        "monitor",
        "unit",
        "code",
        "elapsed_unit",
        "stopped_s",
        "started_s",
        "elapsed_s",
        "kept_provincial",
        "kept_national",
        "application_no",
    ),
    sa.Index("ix_report_monitor_stopped", "stopped_s", "code"),
)
#: Reports find what was done in a period (appointments confirmed, applications closed).
TIMELINE_EVENT_AT = "ix_timeline_event_at"


def upgrade() -> None:
    bind = op.get_bind()
    for table in (REPORT_APPLICATION, REPORT_MONITOR):
        if not sa.inspect(bind).has_table(table.name):
            table.create(bind)
            continue
        have = {i["name"] for i in sa.inspect(bind).get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in have:
                index.create(bind)
    if TIMELINE_EVENT_AT not in {i["name"] for i in sa.inspect(bind).get_indexes("timeline")}:
        with op.batch_alter_table("timeline") as batch:
            batch.create_index(TIMELINE_EVENT_AT, ["event", "at", "application_no"])


def downgrade() -> None:
    with op.batch_alter_table("timeline") as batch:
        batch.drop_index(TIMELINE_EVENT_AT)
    REPORT_MONITOR.drop(op.get_bind())
    REPORT_APPLICATION.drop(op.get_bind())
