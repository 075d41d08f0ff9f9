"""The coordination notices' table (readmodel/coordination.py): one row per notice
(application, kind, department, round).

Revision ID: 7c1e5a9d3b20
Revises: 7e1c0a9b5d21
Created: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7c1e5a9d3b20"
down_revision: str | Sequence[str] | None = "7e1c0a9b5d21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXED = ("application_no", "kind", "department", "unit", "state")


def upgrade() -> None:
    op.create_table(
        "coordination_notice",
        sa.Column("application_no", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("opinion", sa.String(length=2000), nullable=True),
        sa.Column("issued_by", sa.String(length=64), nullable=True),
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("coordination_notice", schema=None) as batch_op:
        for name in _INDEXED:
            batch_op.create_index(
                batch_op.f(f"ix_coordination_notice_{name}"), [name], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("coordination_notice", schema=None) as batch_op:
        for name in _INDEXED:
            batch_op.drop_index(batch_op.f(f"ix_coordination_notice_{name}"))
    op.drop_table("coordination_notice")
