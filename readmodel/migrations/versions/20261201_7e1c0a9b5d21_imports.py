"""Imported applications (readmodel/imports.py): what each import brought and the overdue
digest's entries; where a timeline entry came from and whether a warning was imported.

Revision ID: 7e1c0a9b5d21
Revises: a3d1e5c7b902
Created: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7e1c0a9b5d21"
down_revision: str | Sequence[str] | None = "a3d1e5c7b902"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "application_import",
        sa.Column("application_no", sa.String(length=64), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("started", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("application_no"),
    )
    with op.batch_alter_table("application_import", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_import_source_ref"), ["source_ref"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_application_import_unit"), ["unit"], unique=False)
    op.create_table(
        "import_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("send_after", sa.DateTime(), nullable=False),
        sa.Column("application_no", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit", "phone", "send_after", "application_no"),
    )
    with op.batch_alter_table("timeline", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("origin", sa.String(length=16), server_default="live", nullable=False)
        )
    with op.batch_alter_table("warning", schema=None) as batch_op:
        batch_op.add_column(sa.Column("imported", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("warning", schema=None) as batch_op:
        batch_op.drop_column("imported")
    with op.batch_alter_table("timeline", schema=None) as batch_op:
        batch_op.drop_column("origin")
    op.drop_table("import_digest")
    with op.batch_alter_table("application_import", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_import_unit"))
        batch_op.drop_index(batch_op.f("ix_application_import_source_ref"))
    op.drop_table("application_import")
