"""The integrations' tables (readmodel/integrations.py): webhook deliveries with their answers,
reserve projects, proposed registrations and the latest permit result of each kind.

Revision ID: 94af5179d31f
Revises: dbb6044c7caa
Created: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "94af5179d31f"
down_revision: str | Sequence[str] | None = "dbb6044c7caa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "permit_result",
        sa.Column("application_no", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("delivery", sa.Integer(), nullable=False),
        sa.Column("returned_to", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=500), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("application_no", "kind"),
    )
    op.create_table(
        "proposed_registration",
        sa.Column("registration_no", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("next_reminder_at", sa.DateTime(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("application_no", sa.String(length=64), nullable=True),
        sa.Column("customer_manager", sa.String(length=64), nullable=True),
        sa.Column("status", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("registration_no"),
    )
    with op.batch_alter_table("proposed_registration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposed_registration_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposed_registration_unit"), ["unit"], unique=False)

    op.create_table(
        "reserve_project",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("voltage", sa.String(length=8), nullable=False),
        sa.Column("expected_load_kva", sa.Float(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("next_reminder_at", sa.DateTime(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("follow_ups", sa.Integer(), nullable=False),
        sa.Column("application_no", sa.String(length=64), nullable=True),
        sa.Column("status", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reserve_project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reserve_project_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_reserve_project_unit"), ["unit"], unique=False)

    op.create_table(
        "webhook_delivery",
        sa.Column("webhook_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answer_status", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("effect", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "webhook_id"),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_delivery_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_webhook_delivery_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_status"))
        batch_op.drop_index(batch_op.f("ix_webhook_delivery_kind"))

    op.drop_table("webhook_delivery")
    with op.batch_alter_table("reserve_project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reserve_project_unit"))
        batch_op.drop_index(batch_op.f("ix_reserve_project_state"))

    op.drop_table("reserve_project")
    with op.batch_alter_table("proposed_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposed_registration_unit"))
        batch_op.drop_index(batch_op.f("ix_proposed_registration_state"))

    op.drop_table("proposed_registration")
    op.drop_table("permit_result")
