"""The warning board's index: open warnings by level, soonest due first.

Revision ID: c39d19d475f8
Revises: 0001
Created: 2026-12-01 01:22:06.309323
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "c39d19d475f8"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("warning", schema=None) as batch_op:
        batch_op.create_index(
            "ix_warning_open_level_due", ["open", "level", "due_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("warning", schema=None) as batch_op:
        batch_op.drop_index("ix_warning_open_level_due")
