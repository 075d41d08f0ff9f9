"""The outage plans' tables (readmodel/outages.py): planned outages (停送电计划) and the
applications each carries.

Revision ID: 25d3c79a41a0
Revises: 6b63712281c8
Created: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "25d3c79a41a0"
down_revision: str | Sequence[str] | None = "6b63712281c8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outage_plan",
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("feeder", sa.String(length=64), nullable=True),
        sa.Column("start_at", sa.DateTime(), nullable=True),
        sa.Column("end_at", sa.DateTime(), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("jobs", sa.JSON(), nullable=False),
        sa.Column("affected_customers", sa.JSON(), nullable=False),
        sa.Column("notice_sent_at", sa.DateTime(), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("replaces", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outage_plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outage_plan_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_outage_plan_feeder"), ["feeder"], unique=False)
        batch_op.create_index(batch_op.f("ix_outage_plan_start_at"), ["start_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outage_plan_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_outage_plan_tier"), ["tier"], unique=False)
        batch_op.create_index(batch_op.f("ix_outage_plan_unit"), ["unit"], unique=False)

    op.create_table(
        "outage_plan_application",
        sa.Column("outage_id", sa.String(length=64), nullable=False),
        sa.Column("application_no", sa.String(length=64), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("settled", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["outage_plan.id"],
        ),
        sa.PrimaryKeyConstraint("outage_id", "application_no"),
    )
    with op.batch_alter_table("outage_plan_application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outage_plan_application_application_no"),
            ["application_no"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("outage_plan_application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outage_plan_application_application_no"))

    op.drop_table("outage_plan_application")
    with op.batch_alter_table("outage_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outage_plan_unit"))
        batch_op.drop_index(batch_op.f("ix_outage_plan_tier"))
        batch_op.drop_index(batch_op.f("ix_outage_plan_state"))
        batch_op.drop_index(batch_op.f("ix_outage_plan_start_at"))
        batch_op.drop_index(batch_op.f("ix_outage_plan_feeder"))
        batch_op.drop_index(batch_op.f("ix_outage_plan_day"))

    op.drop_table("outage_plan")
